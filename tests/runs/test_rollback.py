"""Rollback as a real action, through the API, on Cloud Run (the real client, the fake API)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reports.scope import Scope
from reports.summary import summary_build
from runs.models import Deploy, Revision, Service
from runs.services.pipeline import deploy_and_test_execute
from runs.services.rollback import rollback_execute
from runs.services.tokens import token_create
from tests.api.test_errors import SHAPE
from tests.fakes.cloudrun_api import FakeCloudRun
from tests.runs.conftest import FIRST, SERVICE, cloudrun_service, run_deploy

pytestmark = pytest.mark.django_db


def token(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def ask(client, user, revision: str, service: str = "web"):
    return client.post(
        f"/api/v1/services/{service}/rollback",
        {"revision": revision},
        content_type="application/json",
        **token(user),
    )


@pytest.fixture
def deployed(api: FakeCloudRun, stable: list) -> tuple[Service, Revision]:
    """web with FIRST (kept at 0 %) and a newer revision serving 100 % on the fake."""
    service = cloudrun_service(api)
    deploy = run_deploy(service)
    assert deploy.status == "succeeded", deploy.error
    service.refresh_from_db()
    return service, deploy.revision


def test_rolling_back_through_the_api_moves_cloud_run_traffic_and_records_it(
    client, operator, api: FakeCloudRun, deployed, django_capture_on_commit_callbacks
) -> None:
    service, new = deployed

    with django_capture_on_commit_callbacks() as sent:
        response = ask(client, operator, FIRST)

    assert response.status_code == 202, response.json()
    body = response.json()
    rollback = Deploy.objects.get(pk=body["id"])
    assert body["url"] == f"http://testserver/deploys/{rollback.pk}/"
    assert (body["status"], body["revision"], body["previous_revision"]) == (
        "queued",
        FIRST,
        new.name,
    )
    assert rollback.trigger == "rollback" and rollback.requested_by == operator
    assert len(sent) == 1  # enqueued once the transaction committed

    rollback_execute(deploy_id=rollback.pk)

    rollback.refresh_from_db()
    assert rollback.status == "succeeded", rollback.error
    assert api.split(SERVICE) == {FIRST: 100}
    assert rollback.traffic_before == [{"revision": new.name, "percent": 100}]
    assert rollback.traffic_after == [{"revision": FIRST, "percent": 100}]
    service.refresh_from_db()
    assert service.current_revision.name == FIRST
    first = Revision.objects.get(name=FIRST)
    assert (first.status, first.traffic_percent) == ("ready", 100)
    new.refresh_from_db()
    assert (new.status, new.traffic_percent) == ("retired", 0)
    assert f"{SERVICE}/revisions/{new.name}" in api.revisions  # kept, to roll forward to


def test_an_unknown_revision_is_a_json_404(client, operator, deployed) -> None:
    response = ask(client, operator, "web-00099-zzz")

    assert response.status_code == 404
    body = response.json()
    assert set(body) >= SHAPE
    assert (body["code"], body["field"]) == ("not_found", "revision")
    assert "web-00099-zzz" in body["error"]
    assert ask(client, operator, FIRST, service="nope").status_code == 404
    assert Deploy.objects.filter(trigger="rollback").count() == 0


def test_a_rollback_while_a_deploy_is_active_is_a_409_with_a_link(
    client, operator, deployed
) -> None:
    service, _ = deployed
    active = Deploy.objects.create(service=service, image="registry/web:3", status="running")

    response = ask(client, operator, FIRST)

    assert response.status_code == 409
    body = response.json()
    assert set(body) >= SHAPE
    assert body["code"] == "deploy_in_progress"
    assert body["deploy"] == active.pk
    assert body["url"] == f"http://testserver/deploys/{active.pk}/"
    assert body["url"] in body["error"]
    assert Deploy.objects.filter(trigger="rollback").count() == 0


def test_the_current_revision_is_refused_and_a_viewer_token_may_not_roll_back(
    client, operator, viewer, deployed
) -> None:
    _, new = deployed

    current = ask(client, operator, new.name)
    assert current.status_code == 400
    assert (current.json()["code"], current.json()["field"]) == ("invalid", "revision")
    refused = ask(client, viewer, FIRST)
    assert refused.status_code == 403
    assert "may not roll services back" in refused.json()["error"]


# -- failing at each step of a rollback: the record says what the fake says ---------------------


@pytest.mark.parametrize(
    ("step", "said"),
    [
        ("get_service", "fake error 500"),
        ("update_service", "fake error 500"),
        ("operation", "traffic update rejected"),
    ],
)
def test_a_rollback_that_fails_says_where_the_target_reports_traffic(
    client, operator, api: FakeCloudRun, deployed, step: str, said: str
) -> None:
    service, new = deployed
    rollback = ask(client, operator, FIRST).json()
    if step == "get_service":
        api.fail_paths[f"GET /v2/{SERVICE}"] = 500
    elif step == "update_service":
        api.fail_paths[f"PATCH /v2/{SERVICE}"] = 500
    else:
        api.fail_operation = "traffic update rejected"

    rollback_execute(deploy_id=rollback["id"])

    deploy = Deploy.objects.get(pk=rollback["id"])
    assert deploy.status == "failed"
    assert api.split(SERVICE) == {new.name: 100}
    assert f"rollback to {FIRST} failed: " in deploy.error
    assert said in deploy.error
    if step == "get_service":  # the target cannot be read either: the record says so
        assert "the target reports traffic unknown (could not read it" in deploy.error
        assert deploy.traffic_after == []
    else:
        assert deploy.error.endswith(f"the target reports traffic {new.name} (100 %)")
        assert deploy.traffic_after == [{"revision": new.name, "percent": 100}]
    service.refresh_from_db()
    assert service.current_revision == new
    new.refresh_from_db()
    assert (new.status, new.traffic_percent) == ("ready", 100)


def test_when_retiring_the_revision_rolled_away_from_fails_the_rollback_still_holds(
    client, operator, api: FakeCloudRun, deployed
) -> None:
    _, new = deployed
    rollback = ask(client, operator, FIRST).json()
    # Reads of the service: traffic before, set_traffic, traffic after, then retire's own read.
    reads = api.calls("GET").count(f"/v2/{SERVICE}")
    api.fail_calls[f"GET /v2/{SERVICE}"] = {reads + 4: 500}

    rollback_execute(deploy_id=rollback["id"])

    deploy = Deploy.objects.get(pk=rollback["id"])
    assert deploy.status == "succeeded", deploy.error
    assert api.split(SERVICE) == {FIRST: 100}
    assert f"could not retire {new.name}: Cloud Run failed reading" in deploy.log
    new.refresh_from_db()
    assert (new.status, new.traffic_percent) == ("ready", 0)


def test_a_rollback_made_through_the_action_counts_in_the_change_failure_rate(
    client, operator, api: FakeCloudRun, stable: list
) -> None:
    service = cloudrun_service(api)
    deploys = [run_deploy(service, image=f"registry/web:{n}") for n in range(2, 7)]
    assert [d.status for d in deploys] == ["succeeded"] * 5
    # The last deploy was bad: roll back to the one before it, as an Operator would.
    rollback = ask(client, operator, deploys[3].revision.name).json()
    rollback_execute(deploy_id=rollback["id"])
    assert Deploy.objects.get(pk=rollback["id"]).status == "succeeded"

    today = timezone.localdate()
    summary = summary_build(scope=Scope(start=today, end=today, services=(service,)))

    cfr = summary.figure("delivery.change_failure_rate")
    assert cfr.text == "20.0 % (1 of 5)"  # the rolled-back deploy; the rollback is no change
    assert summary.figure("delivery.deploys").text == "5"


@pytest.mark.usefixtures("deployed")
def test_a_rollback_the_sweeper_sends_again_under_the_deploy_name_still_rolls_back(
    client, operator, api: FakeCloudRun
) -> None:
    rollback = ask(client, operator, FIRST).json()
    revisions_before = Revision.objects.count()

    deploy_and_test_execute(deploy_id=rollback["id"])  # what runs.tasks.deploy_and_test does

    deploy = Deploy.objects.get(pk=rollback["id"])
    assert deploy.status == "succeeded", deploy.error
    assert api.split(SERVICE) == {FIRST: 100}
    assert Revision.objects.count() == revisions_before  # no new revision was deployed
