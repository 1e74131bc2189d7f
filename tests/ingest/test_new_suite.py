"""A new suite is made by an upload with create=true, and only when the upload is imported."""

from __future__ import annotations

import html
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from runs.models import Revision, Service, Suite, TestRun
from runs.services.tokens import token_create
from tests.factories import RevisionFactory
from tests.ingest.conftest import HOSTILE, JUNIT

pytestmark = pytest.mark.django_db


def rows() -> tuple[int, int, int, int]:
    return (
        Service.objects.count(),
        Suite.objects.count(),
        Revision.objects.count(),
        TestRun.objects.count(),
    )


@pytest.fixture
def refused(tmp_path, settings, request):
    """A report file the importer refuses, for each way it can be refused."""
    if request.param == "too-large":
        settings.INGEST_MAX_BYTES = 2048
        path = tmp_path / "big.xml"
        path.write_bytes((JUNIT / "mocha.xml").read_bytes())
        return path, "over the"
    path = tmp_path / request.param
    path.write_bytes(HOSTILE[request.param][0])
    return path, HOSTILE[request.param][1]


REFUSALS = ["billion-laughs.xml", "not-junit.xml", "empty.xml", "too-large"]


def test_the_schema_says_how_a_new_suite_is_created(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/runs"]["post"]

    description = operation["description"]
    assert "create=true" in description
    assert "unknown suite" in description
    assert "A refused upload creates nothing" in description
    assert "services are created by an admin" in description


@pytest.mark.parametrize("refused", REFUSALS, indirect=True)
def test_a_refused_api_upload_naming_a_new_suite_leaves_no_rows(suite, operator, refused):
    path, message = refused
    before = rows()

    with path.open("rb") as report:
        response = Client().post(
            "/api/v1/runs",
            {
                "service": "web",
                "suite": "brand-new",
                "revision": "web-00077",
                "create": "true",
                "files": [report],
            },
            HTTP_AUTHORIZATION=f"Bearer {token_create(user=operator, name='ci')[1]}",
        )

    # A file over the size limit is refused while it streams: 413, like any too-large body.
    assert response.status_code == (413 if path.name == "big.xml" else 400)
    assert message in response.json()["error"]
    assert rows() == before


def test_an_accepted_api_upload_creates_the_new_suite(suite, operator):
    with (JUNIT / "mocha.xml").open("rb") as report:
        response = Client().post(
            "/api/v1/runs",
            {"service": "web", "suite": "brand-new", "create": "true", "files": [report]},
            HTTP_AUTHORIZATION=f"Bearer {token_create(user=operator, name='ci')[1]}",
        )

    assert response.status_code == 201
    assert TestRun.objects.get().suite.name == "brand-new"


@pytest.mark.parametrize("refused", REFUSALS, indirect=True)
def test_a_refused_cli_import_naming_a_new_suite_leaves_no_rows(suite, refused):
    path, message = refused
    before = rows()

    with pytest.raises(CommandError, match=message):
        call_command(
            "import_junit",
            str(path),
            "--service",
            "web",
            "--suite",
            "brand-new",
            "--revision",
            "web-00077",
            "--create",
            stdout=StringIO(),
            stderr=StringIO(),
        )

    assert rows() == before


@pytest.mark.parametrize("refused", REFUSALS, indirect=True)
def test_a_refused_form_upload_leaves_no_rows(login, operator, suite, refused):
    path, message = refused
    revision = RevisionFactory(service=suite.service)
    before = rows()

    with path.open("rb") as report:
        response = login(operator).post(
            f"/suites/{suite.pk}/upload", {"files": [report], "revision": revision.pk}
        )

    assert response.status_code == (413 if path.name == "big.xml" else 400)
    assert html.escape(message) in response.content.decode()
    assert rows() == before
