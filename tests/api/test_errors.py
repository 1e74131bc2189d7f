"""Every API error is JSON in one shape: {"error": sentence, "code": word, field, file, errors}."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client

from runs.services.tokens import token_create
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

SHAPE = {"error", "code", "field", "file", "errors"}


@pytest.fixture
def auth(operator) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=operator, name='ci')[1]}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE
    assert body["code"] == code
    assert body["error"].endswith(".")  # a sentence, not a bare word
    assert len(body["error"].split()) >= 5
    return body


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/runs/1/nope", "/api/v2/runs"])
def test_an_unknown_api_path_is_a_json_404(client, auth, path):
    body = assert_error(client.get(path, **auth), 404, "not_found")

    assert path in body["error"]
    assert "/api/v1/docs" in body["error"]


def test_an_unknown_api_path_is_a_json_404_without_a_token_too(client):
    assert_error(client.post("/api/v1/nope"), 404, "not_found")


def test_a_missing_run_is_a_json_404(client, auth):
    body = assert_error(client.get("/api/v1/runs/987654", **auth), 404, "not_found")

    assert "987654" in body["error"]


def test_a_wrong_method_is_a_json_405_that_names_the_allowed_one(client, auth):
    response = client.get("/api/v1/runs", **auth)

    body = assert_error(response, 405, "method_not_allowed")
    assert "POST" in body["error"]
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("header", [{}, {"HTTP_AUTHORIZATION": "Bearer slp_wrong"}])
def test_a_missing_or_wrong_token_is_a_json_401(client, header):
    body = assert_error(client.get("/api/v1/runs/1", **header), 401, "unauthorized")

    assert "Authorization: Bearer" in body["error"]


def test_a_session_post_without_csrf_is_a_json_403(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(
        "/api/v1/builds", {"service": "web", "image": "x"}, content_type="application/json"
    )

    body = assert_error(response, 403, "csrf_failed")
    assert "X-CSRFToken" in body["error"]


def test_validation_errors_name_every_field(client, auth):
    ServiceFactory(name="web")

    response = client.post(
        "/api/v1/builds",
        {"service": "web", "commit_time": "not a time"},
        content_type="application/json",
        **auth,
    )

    body = assert_error(response, 400, "invalid")
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"image", "commit_time"}
    assert body["field"] in fields
    assert all(message for message in fields.values())


def test_a_body_that_is_not_json_is_a_400_saying_so(client, auth):
    response = client.post("/api/v1/builds", "{not json", content_type="application/json", **auth)

    body = assert_error(response, 400, "bad_request")
    assert "JSON" in body["error"]


def test_a_body_over_the_size_limit_is_a_json_413(client, auth, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = client.post(
        "/api/v1/builds",
        json.dumps({"service": "web", "image": "x" * 4096}),
        content_type="application/json",
        **auth,
    )

    assert_error(response, 413, "too_large")


def test_an_unexpected_exception_is_a_json_500_logged_once_with_a_reference(
    client, auth, monkeypatch, caplog
):
    ServiceFactory(name="web")

    def broken(**kwargs):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("runs.api.builds.build_register", broken)
    client.raise_request_exception = False

    with caplog.at_level(logging.INFO):
        response = client.post(
            "/api/v1/builds",
            {"service": "web", "image": "x"},
            content_type="application/json",
            **auth,
        )

    body = assert_error(response, 500, "server_error")
    assert "secret detail" not in response.content.decode()
    reference = re.search(r"reference ([0-9a-f]{8})", body["error"]).group(1)
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert f"reference {reference}" in logged[0].getMessage()


def test_the_schema_documents_the_error_shape_for_every_operation(client):
    schema = client.get("/api/v1/openapi.json").json()

    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) >= SHAPE
    assert all(error["properties"][name].get("description") for name in SHAPE)
    assert '"code"' in schema["info"]["description"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status in ("401", "403", "500"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, status)
