"""The cloudrun target, through the real run_v2 REST transport against a local fake API."""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud import run_v2

from engine.deploy import DeployError, DeployRequest, RevisionInfo, get_target
from engine.deploy.cloudrun import CloudRunTarget
from tests.engine.deploy.conftest import LogLines
from tests.fakes.cloudrun_api import LATEST, REVISION, FakeCloudRun

SERVICE = "projects/p/locations/europe-west1/services/web"
FIRST = "web-00001-abc"


def cloudrun(api: FakeCloudRun, **overrides: Any) -> CloudRunTarget:
    config = {
        "project": "p",
        "region": "europe-west1",
        "service": "web",
        "endpoint": api.url,
        "timeout": 5,
        "poll_interval": 0.02,
        **overrides,
    }
    target = get_target("cloudrun", config)
    assert isinstance(target, CloudRunTarget)
    return target


def deploy(target: CloudRunTarget, image: str = "registry/web:2", **kw: Any) -> Any:
    return target.deploy(DeployRequest(service="web", image=image, **kw), log=lambda line: None)


def test_it_deploys_the_image_as_a_new_revision_and_reports_the_operation(
    cloudrun_api: FakeCloudRun, log: LogLines
) -> None:
    target = cloudrun(cloudrun_api)
    operations: list[str] = []
    req = DeployRequest(service="web", image="registry/web:2", env={"FEATURE": "on"})

    info = target.deploy(req, log=log, on_operation=operations.append)

    service = cloudrun_api.services[SERVICE]
    assert service["template"]["revision"] == req.revision_name == info.name
    assert service["template"]["containers"][0]["image"] == "registry/web:2"
    assert service["template"]["containers"][0]["env"] == [{"name": "FEATURE", "value": "on"}]
    assert service["latestReadyRevision"] == f"{SERVICE}/revisions/{info.name}"
    assert (info.status, info.url) == ("ready", "https://web-xyz-uc.a.run.app")
    assert operations == [info.operation]
    assert info.operation.startswith("projects/p/locations/europe-west1/operations/")
    assert info.extra["traffic"] == {info.name: 100}  # LATEST resolved to the new revision
    assert f"waiting for operation {info.operation}" in log
    assert cloudrun_api.calls("PATCH") == [f"/v2/{SERVICE}"]


def test_a_failed_operation_raises_its_error_and_moves_no_traffic(
    cloudrun_api: FakeCloudRun,
) -> None:
    cloudrun_api.fail_operation = "Revision 'web-x' is not ready: container failed to listen"
    target = cloudrun(cloudrun_api)

    with pytest.raises(DeployError, match="container failed to listen"):
        deploy(target)

    service = cloudrun_api.services[SERVICE]
    assert service["latestReadyRevision"].endswith(FIRST)
    assert service["trafficStatuses"][0]["revision"] == FIRST


def test_permission_denied_names_the_iam_role_to_grant(cloudrun_api: FakeCloudRun) -> None:
    cloudrun_api.fail_paths[f"/v2/{SERVICE}"] = 403

    with pytest.raises(DeployError, match=r"roles/run\.developer"):
        deploy(cloudrun(cloudrun_api))


def test_a_missing_service_names_the_service_and_region(cloudrun_api: FakeCloudRun) -> None:
    target = cloudrun(cloudrun_api, service="api")

    with pytest.raises(DeployError) as caught:
        deploy(target)

    assert "Cloud Run service projects/p/locations/europe-west1/services/api not found" in str(
        caught.value
    )
    assert "region europe-west1" in str(caught.value)


def test_a_reused_revision_name_is_refused(cloudrun_api: FakeCloudRun) -> None:
    with pytest.raises(DeployError, match=f"revision name {FIRST} already exists"):
        deploy(cloudrun(cloudrun_api), revision_name=FIRST)


def test_it_times_out_when_the_operation_never_finishes(cloudrun_api: FakeCloudRun) -> None:
    cloudrun_api.never_done = True
    target = cloudrun(cloudrun_api, timeout=0.3)

    with pytest.raises(
        DeployError, match=r"timed out after 0\.3 s waiting for operation projects/"
    ):
        deploy(target)

    assert len(cloudrun_api.calls("GET")) > 3  # it polled, at the configured interval


def test_it_waits_through_several_polls(cloudrun_api: FakeCloudRun) -> None:
    cloudrun_api.polls_before_done = 4

    info = deploy(cloudrun(cloudrun_api))

    assert cloudrun_api.operations[info.operation]["polls"] == 4


def test_it_lists_revisions_across_pages(cloudrun_api: FakeCloudRun) -> None:
    target = cloudrun(cloudrun_api)
    deployed = [deploy(target, image=f"registry/web:{n}").name for n in (2, 3, 4)]

    names = target.list_revisions(page_size=2)

    assert names == [*reversed(deployed), FIRST]
    tokens = [
        q.get("pageToken") for m, p, q, _ in cloudrun_api.requests if p.endswith("/revisions")
    ]
    assert tokens == [None, ["2"]]


def test_a_canary_keeps_the_rest_on_the_previous_revision(cloudrun_api: FakeCloudRun) -> None:
    target = cloudrun(cloudrun_api)
    new = deploy(target)

    split = target.set_traffic(new.name, 10, tag="canary")

    assert split == {new.name: 10, FIRST: 90}
    traffic = cloudrun_api.services[SERVICE]["traffic"]
    assert {"type": REVISION, "revision": new.name, "percent": 10, "tag": "canary"} in traffic


def test_rollback_pins_traffic_until_sent_back_to_latest(cloudrun_api: FakeCloudRun) -> None:
    target = cloudrun(cloudrun_api)
    bad = deploy(target)

    assert target.rollback(FIRST) == {FIRST: 100}
    newer = deploy(target, image="registry/web:3")
    assert newer.extra["traffic"] == {FIRST: 100}  # pinned traffic stays pinned
    assert bad.name != newer.name

    assert target.send_to_latest() == {newer.name: 100}
    assert cloudrun_api.services[SERVICE]["traffic"][0]["type"] == LATEST


def test_rollback_to_an_unknown_revision_says_so(cloudrun_api: FakeCloudRun) -> None:
    with pytest.raises(DeployError, match="revision web-00099-zzz not found"):
        cloudrun(cloudrun_api).rollback("web-00099-zzz")

    assert cloudrun_api.calls("PATCH") == []


def test_no_traffic_deploys_leave_the_current_split_alone(cloudrun_api: FakeCloudRun) -> None:
    target = cloudrun(cloudrun_api, no_traffic=True)

    info = deploy(target)

    assert info.extra["traffic"] == {FIRST: 100}
    assert target.status(info.name).status == "ready"


def test_status_reports_a_revision_that_failed(cloudrun_api: FakeCloudRun) -> None:
    cloudrun_api.fail_operation = "container crashed"
    target = cloudrun(cloudrun_api)
    name = "web-broken"
    with pytest.raises(DeployError):
        deploy(target, revision_name=name)

    assert target.status(name).status == "failed"
    assert target.status(FIRST).status == "ready"


def test_it_builds_no_client_until_first_use(
    cloudrun_api: FakeCloudRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    class CountingServicesClient(run_v2.ServicesClient):
        def __init__(self, **kwargs: Any) -> None:
            built.append("services")
            super().__init__(**kwargs)

    monkeypatch.setattr(run_v2, "ServicesClient", CountingServicesClient)
    target = cloudrun(cloudrun_api)
    assert built == []

    deploy(target)
    deploy(target, image="registry/web:3")

    assert built == ["services"]  # built once, on first use, then reused


# -- retire: a failed candidate is deleted, an old good revision is kept at 0 % -------------------


def test_retire_deletes_a_failed_candidate_once_traffic_has_left_it(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    bad = deploy(target)
    target.rollback(FIRST)

    target.retire(RevisionInfo(name=bad.name, url="", status="failed"))

    assert f"{SERVICE}/revisions/{bad.name}" not in cloudrun_api.revisions
    assert cloudrun_api.calls("DELETE") == [f"/v2/{SERVICE}/revisions/{bad.name}"]
    assert cloudrun_api.split(SERVICE) == {FIRST: 100}


def test_retire_keeps_an_old_good_revision_at_zero_and_removes_its_tag(
    cloudrun_api: FakeCloudRun,
) -> None:
    target = cloudrun(cloudrun_api)
    new = deploy(target)
    # The old revision keeps a tag (its own URL) with no share, as `gcloud run deploy --tag` does.
    cloudrun_api.services[SERVICE]["traffic"].append(
        {"type": REVISION, "revision": FIRST, "percent": 0, "tag": "stable"}
    )
    assert cloudrun_api.tags(SERVICE) == {"stable": FIRST}

    target.retire(RevisionInfo(name=FIRST, url="", status="ready"))

    assert f"{SERVICE}/revisions/{FIRST}" in cloudrun_api.revisions  # kept to roll back to
    assert cloudrun_api.tags(SERVICE) == {}
    assert cloudrun_api.split(SERVICE) == {new.name: 100}
    assert cloudrun_api.calls("DELETE") == []


def test_retire_refuses_a_revision_that_still_serves_traffic(cloudrun_api: FakeCloudRun) -> None:
    target = cloudrun(cloudrun_api)
    bad = deploy(target)

    with pytest.raises(DeployError, match=rf"{bad.name} still serves 100 %"):
        target.retire(RevisionInfo(name=bad.name, url="", status="failed"))

    assert f"{SERVICE}/revisions/{bad.name}" in cloudrun_api.revisions
    assert cloudrun_api.calls("DELETE") == []
