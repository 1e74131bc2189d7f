"""POST /api/v1/runs with a Bearer token: 201, dedupe 200, clear 400/401/403, nothing stored."""

from __future__ import annotations

import gzip

import pytest
from django.test import Client

from runs.models import ApiToken, TestRun
from runs.services.tokens import token_create
from tests.ingest.conftest import EXPECTED, HOSTILE, JUNIT, counts, table_sizes

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(operator):
    return token_create(user=operator, name="ci")[1]


def _post(token: str | None, files, **fields):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = {"service": "web", "suite": "e2e", **fields, "files": files}
    return Client(enforce_csrf_checks=True).post("/api/v1/runs", data, **headers)


def _file(name: str):
    return (JUNIT / name).open("rb")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_imports_each_real_report_through_the_api(suite, token, name):
    response = _post(token, [_file(name)])

    assert response.status_code == 201, response.json()
    body = response.json()
    run = TestRun.objects.get(pk=body["id"])
    assert counts(run) == EXPECTED[name]
    total, passed, failed, errors, skipped, flaky = EXPECTED[name]
    assert (body["total"], body["passed"], body["failed"], body["errors"]) == (
        total,
        passed,
        failed,
        errors,
    )
    assert (body["skipped"], body["flaky"], body["created"]) == (skipped, flaky, True)
    assert body["url"] == f"http://testserver/runs/{run.pk}/"
    assert run.trigger == "api"


def test_the_same_upload_twice_returns_the_existing_run(suite, token):
    first = _post(token, [_file("mocha.xml")]).json()

    again = _post(token, [_file("mocha.xml")])

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["created"] is False
    assert TestRun.objects.count() == 1


def test_it_accepts_a_gzip_compressed_file(suite, token, tmp_path):
    packed = tmp_path / "report.xml.gz"
    packed.write_bytes(gzip.compress((JUNIT / "gotestsum.xml").read_bytes()))

    response = _post(token, [packed.open("rb")])

    assert response.status_code == 201
    assert response.json()["total"] == 60


def test_it_creates_an_unknown_suite_and_revision_only_when_asked(suite, token):
    refused = _post(token, [_file("mocha.xml")], suite="smoke", revision="web-00007")

    assert refused.status_code == 400
    assert refused.json()["field"] == "suite"
    created = _post(token, [_file("mocha.xml")], suite="smoke", revision="web-00007", create="true")
    assert created.status_code == 201
    run = TestRun.objects.get(pk=created.json()["id"])
    assert (run.suite.name, run.revision.name) == ("smoke", "web-00007")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"service": "nope"}, "service", "There is no service named 'nope'"),
        ({"revision": "web-404"}, "revision", "has no revision named 'web-404'"),
        ({"started_at": "yesterday"}, "started_at", "is not an ISO 8601 time"),
    ],
)
def test_bad_metadata_is_a_400_naming_the_field(suite, token, fields, field, message):
    response = _post(token, [_file("mocha.xml")], **fields)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert message in response.json()["error"]
    assert TestRun.objects.count() == 0


def test_a_missing_file_is_a_400_naming_the_field(suite, token):
    response = Client().post(
        "/api/v1/runs", {"service": "web", "suite": "e2e"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 400
    assert response.json()["field"] == "files"


@pytest.mark.parametrize("bad", ["billion-laughs.xml", "not-junit.xml", "truncated.xml"])
def test_a_bad_file_is_a_400_naming_the_file_and_stores_nothing(suite, token, bad, tmp_path):
    path = tmp_path / bad
    path.write_bytes(HOSTILE[bad][0])

    response = _post(token, [_file("mocha.xml"), path.open("rb")])

    assert response.status_code == 400
    assert response.json()["file"] == bad
    assert HOSTILE[bad][1] in response.json()["error"]
    assert table_sizes() == (0, 0, 0, 0, 0)


def test_no_token_is_401(suite):
    response = _post(None, [_file("mocha.xml")])

    assert response.status_code == 401
    assert "API token is required" in response.json()["error"]


def test_a_wrong_token_is_401(suite):
    assert _post("slp_not-a-real-token", [_file("mocha.xml")]).status_code == 401


def test_a_revoked_token_is_401(suite, token):
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")

    assert _post(token, [_file("mocha.xml")]).status_code == 401


def test_a_viewer_token_is_403(suite, viewer):
    raw = token_create(user=viewer, name="viewer")[1]

    response = _post(raw, [_file("mocha.xml")])

    assert response.status_code == 403
    assert "Operator" in response.json()["error"]
    assert TestRun.objects.count() == 0


def test_tokens_are_stored_hashed(operator):
    token, raw = token_create(user=operator, name="ci")

    assert raw not in token.digest
    assert raw.startswith(token.prefix)
    assert not ApiToken.objects.filter(digest=raw).exists()


def test_a_browser_session_needs_the_csrf_token(suite, operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.post(
        "/api/v1/runs", {"service": "web", "suite": "e2e", "files": [_file("mocha.xml")]}
    )

    assert response.status_code in (401, 403)
    assert TestRun.objects.count() == 0


def test_get_run_returns_its_counts(suite, token):
    created = _post(token, [_file("pytest-fail.xml")]).json()

    response = Client().get(f"/api/v1/runs/{created['id']}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["failed"] == 1


def test_the_openapi_schema_and_offline_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json").json()
    docs = client.get("/api/v1/docs").content.decode()

    assert "/api/v1/runs" in schema["paths"]
    assert "/api/v1/builds" in schema["paths"]
    assert "cdn" not in docs.lower()
    assert "/static/ninja/swagger-ui-bundle.js" in docs


def test_an_archive_of_the_report_with_its_screenshot_uploads_through_the_api(suite, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from runs.models import TestAttachment
    from tests.attachment_files import png, report, zip_of

    archive = zip_of({"junit.xml": report("shots/a.png"), "shots/a.png": png()})
    response = _post(token, [SimpleUploadedFile("results.zip", archive)])

    assert response.status_code == 201, response.json()
    (attachment,) = TestAttachment.objects.filter(run_id=response.json()["id"])
    assert (attachment.name, attachment.content_type) == ("shots/a.png", "image/png")


def test_extra_files_next_to_the_report_upload_through_the_api(suite, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from runs.models import TestAttachment
    from tests.attachment_files import png, report

    response = _post(
        token,
        [
            SimpleUploadedFile("junit.xml", report("out/a.png", "/etc/passwd")),
            SimpleUploadedFile("a.png", png()),
        ],
    )

    assert response.status_code == 201, response.json()
    stored, refused = TestAttachment.objects.filter(run_id=response.json()["id"]).order_by("pk")
    assert stored.content_type == "image/png"
    assert refused.note == "attachment '/etc/passwd' is outside the upload; not read."


def test_an_archive_over_the_limit_is_a_400_naming_it_and_stores_nothing(suite, token, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.attachment_files import report, zip_of

    settings.ARCHIVE_MAX_BYTES = 4096
    before = table_sizes()
    archive = zip_of({"junit.xml": report(), "zeros.bin": bytes(1 << 20)})

    response = _post(token, [SimpleUploadedFile("bomb.zip", archive)])

    assert response.status_code == 400
    assert "bomb.zip: zeros.bin: the upload unpacks to more than 4 KB" in response.json()["error"]
    assert response.json()["file"] == "bomb.zip"
    assert table_sizes() == before
