"""A NUL character in any text input is a 400, never a 500 from PostgreSQL (issue 13): JSON
under /api/ in the API's error shape, the styled 400 page elsewhere. Passes on SQLite and on
PostgreSQL (DATABASE_URL), where the NUL used to reach the database."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from runs.models import ApiToken, Build, TestRun
from runs.services.tokens import token_create
from tests.dashboard.test_error_pages import assert_our_page
from tests.factories import RunFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(operator):
    return token_create(user=operator, name="ci")[1]


def _api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _assert_api_refusal(response, where: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert "NUL character" in body["error"]
    assert where in body["error"]
    return body


@pytest.mark.parametrize(
    "body",
    [
        '{"service": "web\\u0000", "image": "img:1"}',
        '{"service": "web", "image": "img:1", "message": "a\\\\\\u0000b"}',
        '{"service": "web", "image": "img\x00:1"}',
    ],
    ids=["escape", "escape-after-backslash", "raw"],
)
def test_a_nul_in_a_json_field_is_a_json_400(token, body):
    ServiceFactory(name="web")

    response = _api(token).post("/api/v1/builds", body, content_type="application/json")

    _assert_api_refusal(response, "JSON body")
    assert Build.objects.count() == 0


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(token):
    body = json.dumps({"service": "nope\\u0000", "image": "img:1"})

    response = _api(token).post("/api/v1/builds", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["field"] == "service"  # refused as an unknown service, not as NUL
    assert "NUL" not in response.json()["error"]


def test_a_nul_in_a_multipart_api_field_is_a_json_400(token):
    SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    report = SimpleUploadedFile("r.xml", b'<testsuite name="s"><testcase name="t"/></testsuite>')

    response = _api(token).post(
        "/api/v1/runs", {"service": "web\x00", "suite": "e2e", "files": report}
    )

    body = _assert_api_refusal(response, "form field 'service'")
    assert body["field"] == "service"
    assert TestRun.objects.count() == 0


def test_a_nul_in_an_api_query_parameter_is_a_json_400(token):
    run = RunFactory()

    response = _api(token).get(f"/api/v1/runs/{run.pk}", {"expand": "a\x00"})

    body = _assert_api_refusal(response, "query parameter 'expand'")
    assert body["field"] == "expand"


def test_a_nul_in_a_form_field_is_the_styled_400_page(login, viewer):
    client = login(viewer)

    response = client.post("/account/tokens/", {"name": "ci\x00"})

    page = assert_our_page(response, 400)
    assert "NUL character" in page
    assert "form field" in page
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("value", ["\x00", "a\x00b"])
def test_a_nul_in_a_query_parameter_is_the_styled_400_page(login, viewer, value):
    run = RunFactory()

    response = login(viewer).get(f"/runs/{run.pk}/", {"q": value})

    page = assert_our_page(response, 400)
    assert "NUL character" in page
    assert "query parameter" in page


def test_a_nul_in_a_query_parameter_name_is_refused_too(login, viewer):
    response = login(viewer).get("/", {"a\x00": "1"})

    assert_our_page(response, 400)


def test_text_without_nul_passes(login, viewer):
    run = RunFactory()

    response = login(viewer).get(f"/runs/{run.pk}/", {"q": "\\u0000 is fine as text"})

    assert response.status_code == 200
