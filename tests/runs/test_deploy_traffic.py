"""A Cloud Run deploy records what the target says, through the real client and the fake API."""

from __future__ import annotations

import sys

import pytest

from runs.models import Revision, Service
from tests.fakes.cloudrun_api import FakeCloudRun
from tests.runs.conftest import FIRST, SERVICE, cloudrun_service, run_deploy

pytestmark = pytest.mark.django_db


def test_an_unhealthy_new_revision_sends_cloud_run_traffic_back_and_is_deleted(
    api: FakeCloudRun, stable: list[bool]
) -> None:
    service = cloudrun_service(api)
    stable[0] = False

    deploy = run_deploy(service)

    assert deploy.status == "failed"
    bad = deploy.revision
    assert api.split(SERVICE) == {FIRST: 100}  # the target, not only our record
    assert f"{SERVICE}/revisions/{bad.name}" not in api.revisions
    assert f"traffic is back on {FIRST} (100 %)" in deploy.error
    assert deploy.traffic_before == [{"revision": FIRST, "percent": 100}]
    assert deploy.traffic_after == [{"revision": FIRST, "percent": 100}]
    bad.refresh_from_db()
    assert (bad.status, bad.traffic_percent) == ("failed", 0)
    service.refresh_from_db()
    assert service.current_revision.name == FIRST
    assert service.current_revision.traffic_percent == 100


def test_traffic_before_and_after_are_read_from_cloud_run_not_written_by_hand(
    api: FakeCloudRun, stable: list[bool]
) -> None:
    # Like `gcloud run deploy --no-traffic`: the new revision is ready and serves nothing yet.
    service = cloudrun_service(api, no_traffic=True)

    deploy = run_deploy(service)

    assert deploy.status == "succeeded", deploy.error
    assert deploy.traffic_before == [{"revision": FIRST, "percent": 100}]
    assert deploy.traffic_after == [{"revision": FIRST, "percent": 100}]
    assert api.split(SERVICE) == {FIRST: 100}
    deploy.revision.refresh_from_db()
    assert deploy.revision.traffic_percent == 0
    assert Revision.objects.get(name=FIRST).traffic_percent == 100


# -- failing at each step: the record says what the fake Admin API says -------------------------


def test_when_reading_the_service_fails_the_record_says_traffic_is_unknown(
    api: FakeCloudRun, stable: list
) -> None:
    service = cloudrun_service(api)
    api.fail_paths[f"GET /v2/{SERVICE}"] = 500

    deploy = run_deploy(service)

    assert deploy.status == "failed"
    assert f"Cloud Run failed reading {SERVICE}" in deploy.error
    assert "The target reports traffic on unknown (could not read it" in deploy.error
    assert (deploy.traffic_before, deploy.traffic_after) == ([], [])
    assert api.calls("PATCH") == []
    assert api.split(SERVICE) == {FIRST: 100}
    assert Revision.objects.get(name=FIRST).traffic_percent == 100


@pytest.mark.parametrize("step", ["update_service", "operation"])
def test_when_the_update_fails_traffic_is_read_back_and_stays_on_the_old_revision(
    api: FakeCloudRun, stable: list, step: str
) -> None:
    service = cloudrun_service(api)
    if step == "update_service":
        api.fail_paths[f"PATCH /v2/{SERVICE}"] = 500
    else:
        api.fail_operation = "Revision failed: container failed to listen on PORT"

    deploy = run_deploy(service)

    assert deploy.status == "failed"
    said = "fake error 500" if step == "update_service" else "container failed to listen"
    assert said in deploy.error
    assert f"The target reports traffic on {FIRST} (100 %)." in deploy.error
    assert deploy.traffic_before == deploy.traffic_after == [{"revision": FIRST, "percent": 100}]
    assert api.split(SERVICE) == {FIRST: 100}
    assert deploy.revision is None
    service.refresh_from_db()
    assert service.current_revision.name == FIRST


@pytest.mark.parametrize("step", ["update_service", "operation"])
def test_when_the_rollback_fails_half_way_the_record_says_so_and_where_traffic_is(
    api: FakeCloudRun, stable: list, step: str
) -> None:
    service = cloudrun_service(api)

    def break_the_api() -> None:
        if step == "update_service":
            api.fail_paths[f"PATCH /v2/{SERVICE}"] = 500
        else:
            api.fail_operation = "traffic update rejected"

    stable[:] = [False, break_the_api]

    deploy = run_deploy(service)

    bad = deploy.revision
    assert deploy.status == "failed"
    said = "fake error 500" if step == "update_service" else "traffic update rejected"
    assert f"rollback to {FIRST} failed: " in deploy.error
    assert said in deploy.error
    assert f"the target reports traffic {bad.name} (100 %)" in deploy.error
    assert f"{bad.name} was not retired" in deploy.error
    assert api.split(SERVICE) == {bad.name: 100}
    assert f"{SERVICE}/revisions/{bad.name}" in api.revisions
    assert deploy.traffic_after == [{"revision": bad.name, "percent": 100}]
    bad.refresh_from_db()
    assert (bad.status, bad.traffic_percent) == ("failed", 100)
    assert Revision.objects.get(name=FIRST).traffic_percent == 0
    service.refresh_from_db()
    assert service.current_revision == bad  # what serves, failed or not


def test_when_deleting_the_candidate_fails_traffic_is_back_and_the_record_says_it_stayed(
    api: FakeCloudRun, stable: list
) -> None:
    service = cloudrun_service(api)
    stable[0] = False

    def fail_delete() -> None:
        bad = Revision.objects.exclude(name=FIRST).get()
        api.fail_paths[f"DELETE /v2/{SERVICE}/revisions/{bad.name}"] = 500

    stable[1] = fail_delete

    deploy = run_deploy(service)

    bad = deploy.revision
    assert deploy.status == "failed"
    assert f"traffic is back on {FIRST} (100 %); {bad.name} could not be retired" in deploy.error
    assert "fake error 500" in deploy.error
    assert api.split(SERVICE) == {FIRST: 100}
    assert f"{SERVICE}/revisions/{bad.name}" in api.revisions
    bad.refresh_from_db()
    assert (bad.status, bad.traffic_percent) == ("failed", 0)


def test_a_successful_deploy_keeps_the_old_cloud_run_revision_at_zero_to_roll_back_to(
    api: FakeCloudRun, stable: list
) -> None:
    service = cloudrun_service(api)

    deploy = run_deploy(service)

    assert deploy.status == "succeeded", deploy.error
    new = deploy.revision.name
    assert deploy.traffic_before == [{"revision": FIRST, "percent": 100}]
    assert deploy.traffic_after == [{"revision": new, "percent": 100}]
    assert api.split(SERVICE) == {new: 100}
    assert f"{SERVICE}/revisions/{FIRST}" in api.revisions
    first = Revision.objects.get(name=FIRST)
    assert (first.status, first.traffic_percent) == ("retired", 0)


def test_a_command_deploy_records_the_split_its_commands_report_and_nothing_it_cannot_know(
    tmp_path, stable: list
) -> None:
    script = tmp_path / "deploy.py"
    script.write_text(
        "import json, os\n"
        "rev = os.environ['STAGELOOP_REVISION']\n"
        "print(json.dumps({'revision': rev, 'url': 'http://x', 'traffic': {rev: 100}}))\n"
    )
    service = Service.objects.create(
        name="cmd",
        target_kind=Service.TargetKind.COMMAND,
        target_config={"command": [sys.executable, str(script)]},
    )

    deploy = run_deploy(service, image="cmd:1")

    assert deploy.status == "succeeded", deploy.error
    assert deploy.traffic_before == []  # no read_traffic_command, no command run yet
    assert deploy.traffic_after == [{"revision": deploy.revision.name, "percent": 100}]
    assert "traffic before: unknown (could not read it" in deploy.log
    deploy.revision.refresh_from_db()
    assert deploy.revision.traffic_percent == 100


def test_when_traffic_cannot_be_read_after_sending_it_back_the_record_does_not_guess(
    api: FakeCloudRun, stable: list
) -> None:
    service = cloudrun_service(api)
    stable[0] = False
    # Reads of the service: before, the deploy's, after the deploy, set_traffic's, retire's,
    # then the read after the rollback, which fails.
    api.fail_calls[f"GET /v2/{SERVICE}"] = {6: 500}

    deploy = run_deploy(service)

    assert deploy.status == "failed"
    assert "the target reports traffic unknown (could not read it: " in deploy.error
    assert "is back on" not in deploy.error
    assert deploy.traffic_after == []
    assert api.split(SERVICE) == {FIRST: 100}
    service.refresh_from_db()
    assert service.current_revision.name == FIRST
