"""Every role may create a token; a token acts with its owner's current role, and says so."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from runs.models import ApiToken, Build, TestRun
from runs.roles import OPERATOR, VIEWER
from runs.services.roles import roles_ensure
from runs.services.tokens import token_create
from tests.factories import RunFactory, ServiceFactory, SuiteFactory
from tests.junit_reports import JUNIT

pytestmark = pytest.mark.django_db


@pytest.fixture
def suite():
    return SuiteFactory(service=ServiceFactory(name="web"), name="e2e")


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='ci')[1]}"}


def upload(headers: dict):
    with (JUNIT / "mocha.xml").open("rb") as report:
        return Client().post(
            "/api/v1/runs", {"service": "web", "suite": "e2e", "files": [report]}, **headers
        )


def register_build(headers: dict):
    return Client().post(
        "/api/v1/builds",
        {"service": "web", "image": "web:1.2.3"},
        content_type="application/json",
        **headers,
    )


def test_an_operator_token_uploads(suite, operator):
    assert upload(bearer(operator)).status_code == 201


def test_a_viewer_token_reads_a_run(suite, viewer):
    run = RunFactory(suite=suite)

    response = Client().get(f"/api/v1/runs/{run.pk}", **bearer(viewer))

    assert response.status_code == 200
    assert response.json()["id"] == run.pk


def test_a_viewer_token_upload_is_a_json_403_with_a_sentence(suite, viewer):
    response = upload(bearer(viewer))

    body = response.json()
    assert response.status_code == 403
    assert body["code"] == "forbidden"
    assert "vera-viewer (Viewer) may not upload test results" in body["error"]
    assert "needs the Operator role" in body["error"]
    assert TestRun.objects.count() == 0


def test_a_viewer_token_may_not_register_a_build(suite, viewer):
    response = register_build(bearer(viewer))

    assert response.status_code == 403
    assert "may not register builds" in response.json()["error"]
    assert Build.objects.count() == 0


def test_a_manager_token_is_read_only_too(suite, manager):
    assert upload(bearer(manager)).status_code == 403


def test_a_token_of_a_user_without_a_role_may_not_read(suite):
    nobody = get_user_model().objects.create_user("no-role")
    run = RunFactory(suite=suite)

    response = Client().get(f"/api/v1/runs/{run.pk}", **bearer(nobody))

    assert response.status_code == 403
    assert "no-role (no role) may not read runs" in response.json()["error"]


def test_a_token_follows_its_owners_current_role(suite, operator):
    headers = bearer(operator)
    groups = roles_ensure()
    operator.groups.set([groups[VIEWER]])

    assert upload(headers).status_code == 403

    operator.groups.set([groups[OPERATOR]])
    assert upload(headers).status_code == 201


@pytest.mark.parametrize("role", ["viewer", "operator", "manager"])
def test_every_role_may_create_a_token(login, request, role):
    user = request.getfixturevalue(role)

    response = login(user).post("/account/tokens/", {"name": "GitHub Actions"})

    assert response.status_code == 200
    assert ApiToken.objects.get().user == user


def test_at_creation_a_viewer_is_told_the_token_is_read_only(login, viewer):
    page = login(viewer).post("/account/tokens/", {"name": "dashboards"}).content.decode()

    assert 'id="new-token-may"' in page
    new_token = page[page.index('id="new-token-may"') :]
    assert "May read runs and their results" in new_token
    assert (
        "May not upload test results, register builds, roll services back to an earlier "
        "revision, start deploy-and-test, promote a revision (despite the gate, with a "
        "reason), quarantine, disable or re-activate tests, triage failure signatures, set or "
        "pause suite schedules, pin or unpin runs or set a suite&#x27;s retention policy"
        in new_token
    )
    assert "needs one of the roles Operator or Manager" in new_token


def test_the_tokens_page_says_per_token_what_it_may_do(login, operator):
    token_create(user=operator, name="ci")
    token_create(user=operator, name="nightly")

    page = login(operator).get("/account/tokens/").content.decode()

    assert page.count('class="token-may"') == 2
    assert (
        "May read runs and their results, upload test results, register builds, roll "
        "services back to an earlier revision, start deploy-and-test, promote a revision "
        "(despite the gate, with a reason), quarantine, disable or re-activate tests, "
        "triage failure signatures, set or pause suite schedules and pin or unpin runs" in page
    )
    assert "May not set a suite&#x27;s retention policy: that needs the Manager role" in page
    assert "acts with your current role (Operator)" in page


def test_a_revoked_token_says_it_may_do_nothing(login, operator):
    token, _ = token_create(user=operator, name="ci")
    client = login(operator)
    client.post(f"/account/tokens/{token.pk}/revoke")

    page = client.get("/account/tokens/").content.decode()

    assert "Nothing: revoked" in page
