"""POST deploy-and-test, promote and roll back with a token (Operator), for CI."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reports.scope import Scope
from reports.summary import summary_build
from runs.models import Build, Deploy, Revision, Service, Suite, TestRun, Verdict
from runs.services.tokens import token_create
from tests.api.test_errors import SHAPE

pytestmark = pytest.mark.django_db


def token(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def post(client, user, path: str, body: dict):
    return client.post(path, body, content_type="application/json", **token(user))


@pytest.fixture
def web() -> Service:
    service = Service.objects.create(name="web", default_image="web:1", release_policy="gated")
    Suite.objects.create(service=service, name="e2e")
    stable = Revision.objects.create(service=service, name="web-1", status="ready", image="web:1")
    Service.objects.filter(pk=service.pk).update(current_revision=stable)
    service.refresh_from_db()
    return service


def candidate(service: Service, outcome: str | None) -> Revision:
    revision = Revision.objects.create(service=service, name="web-2", status="retired")
    if outcome:
        run = TestRun.objects.create(
            suite=service.suites.get(), service=service, revision=revision, status="failed"
        )
        Verdict.objects.create(revision=revision, run=run, outcome=outcome, summary="judged")
    return revision


def test_deploy_and_test_starts_with_the_policy_asked_for(
    client, operator, web, django_capture_on_commit_callbacks
):
    build = Build.objects.create(service=web, image="web:2", commit_sha="abc1234")

    with django_capture_on_commit_callbacks() as sent:
        response = post(
            client,
            operator,
            "/api/v1/services/web/deploys",
            {"build": build.pk, "release_policy": "canary"},
        )

    assert response.status_code == 202, response.json()
    body = response.json()
    deploy = Deploy.objects.get(pk=body["id"])
    assert (deploy.trigger, deploy.release_policy, deploy.image) == ("api", "canary", "web:2")
    assert deploy.requested_by == operator
    assert body["run"] == deploy.runs.get().pk
    assert body["url"] == f"http://testserver/deploys/{deploy.pk}/"
    assert (body["status"], body["release"]) == ("queued", "")
    assert len(sent) == 1

    busy = post(client, operator, "/api/v1/services/web/deploys", {})
    assert busy.status_code == 409
    assert busy.json()["code"] == "deploy_in_progress" and busy.json()["deploy"] == deploy.pk


def test_without_a_policy_the_deploy_takes_the_services(client, operator, web):
    response = post(client, operator, "/api/v1/services/web/deploys", {"image": "web:3"})

    assert response.status_code == 202, response.json()
    assert Deploy.objects.get(pk=response.json()["id"]).release_policy == "gated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"release_policy": "yolo"}, "release_policy"),
        ({"build": 999999}, "build"),
        ({"suite": "nope"}, "suite"),
    ],
)
def test_bad_deploy_input_is_a_clear_400_and_creates_nothing(client, operator, web, body, field):
    response = post(client, operator, "/api/v1/services/web/deploys", body)

    assert response.status_code == 400
    assert set(response.json()) >= SHAPE
    assert response.json()["field"] == field
    assert not Deploy.objects.exists() and not TestRun.objects.exists()


def test_a_viewer_may_not_deploy_promote_or_roll_back(client, viewer, web):
    for path, body in [
        ("/api/v1/services/web/deploys", {}),
        ("/api/v1/services/web/promote", {"revision": "web-1"}),
        ("/api/v1/services/web/rollback", {"revision": "web-1"}),
    ]:
        response = post(client, viewer, path, body)
        assert response.status_code == 403, path
        assert "Operator" in response.json()["error"]
    assert not Deploy.objects.exists()


def test_promoting_past_a_failing_verdict_needs_a_reason(client, operator, web):
    revision = candidate(web, "fail")

    refused = post(client, operator, "/api/v1/services/web/promote", {"revision": revision.name})

    assert refused.status_code == 400
    assert refused.json()["field"] == "reason"
    assert "overrides the gate" in refused.json()["error"]
    assert not Deploy.objects.exists()

    response = post(
        client,
        operator,
        "/api/v1/services/web/promote",
        {"revision": revision.name, "reason": "hotfix for the outage, tests are wrong"},
    )

    assert response.status_code == 202, response.json()
    deploy = Deploy.objects.get(pk=response.json()["id"])
    assert deploy.trigger == "promote" and deploy.revision == revision
    assert deploy.reason.startswith("Override (its latest gate verdict")
    assert deploy.reason.endswith("hotfix for the outage, tests are wrong")


def test_a_revision_whose_gate_passed_is_promoted_without_a_reason(client, operator, web):
    revision = candidate(web, "pass")

    response = post(client, operator, "/api/v1/services/web/promote", {"revision": revision.name})

    assert response.status_code == 202, response.json()
    assert Deploy.objects.get(pk=response.json()["id"]).reason == ""


def test_the_override_shows_in_the_managers_summary(client, operator, manager, web):
    revision = candidate(web, "inconclusive")
    post(
        client,
        operator,
        "/api/v1/services/web/promote",
        {"revision": revision.name, "reason": "release train leaves now"},
    )
    Deploy.objects.update(status="succeeded", finished_at=timezone.now())

    today = timezone.localdate()
    summary = summary_build(scope=Scope(start=today, end=today, services=()))
    figures = {f.key: f for s in summary.sections for f in s.figures}
    assert figures["delivery.gate_overrides"].value == 1
    assert "release train leaves now" in figures["delivery.gate_overrides"].text
    client.force_login(manager)
    page = client.get(figures["delivery.gate_overrides"].evidence_url)
    assert page.status_code == 200
    assert "release train leaves now" in page.content.decode()


def test_roll_back_during_a_release_asks_it_to_roll_back_at_once(client, operator, web):
    candidate_revision = Revision.objects.create(service=web, name="web-2", status="ready")
    deploy = Deploy.objects.create(
        service=web,
        revision=candidate_revision,
        previous_revision=web.current_revision,
        status="running",
        release_policy="canary",
        release="canary",
    )

    response = post(
        client, operator, "/api/v1/services/web/rollback", {"reason": "errors in the logs"}
    )

    assert response.status_code == 202, response.json()
    assert response.json()["id"] == deploy.pk
    assert response.json()["revision"] == "web-1"
    deploy.refresh_from_db()
    assert deploy.abort_requested_at is not None
    assert deploy.abort_reason == "otto-operator: errors in the logs"


def test_the_schema_documents_the_release_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/services/{name}/deploys",
        "/api/v1/services/{name}/promote",
        "/api/v1/services/{name}/rollback",
    ):
        assert "post" in paths[path], path
        assert "202" in paths[path]["post"]["responses"]


def test_a_promotion_waits_for_the_release_in_progress(client, operator, web):
    revision = candidate(web, "pass")
    active = Deploy.objects.create(
        service=web, status="running", release_policy="canary", release="canary"
    )

    response = post(client, operator, "/api/v1/services/web/promote", {"revision": revision.name})

    assert response.status_code == 409
    assert response.json()["code"] == "deploy_in_progress"
    assert response.json()["deploy"] == active.pk
    assert "Cannot promote now" in response.json()["error"]
    assert Deploy.objects.count() == 1
