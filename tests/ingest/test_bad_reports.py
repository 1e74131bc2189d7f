"""Reports that used to crash an import (a 500, a traceback): every door answers with one
sentence naming the file and stores nothing; NUL characters and UTF-32 are read (issue 13)."""

from __future__ import annotations

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client

from runs.management.commands.import_junit import Command
from runs.models import TestResult, TestRun
from runs.services.tokens import token_create
from tests.ingest.conftest import table_sizes

pytestmark = pytest.mark.django_db

BODY = '<testsuite name="s"><testcase name="t" time="1"/></testsuite>'


def _declared(encoding: str) -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{BODY}'.encode()


REFUSED = {
    **{
        f"{encoding}.xml": (_declared(encoding), f"declares the encoding {encoding!r}")
        for encoding in ("base64", "zlib", "hex", "bz2", "uu", "rot13", "idna", "undefined")
    },
    "utf-32.xml": (_declared("utf-32"), "declares the encoding 'utf-32', but is not written in it"),
    "huge-time.xml": (
        b'<testsuite name="s"><testcase name="t" time="1e300"/></testsuite>',
        "the time '1e300', which is not a duration in seconds",
    ),
    "far-timestamp.xml": (
        b'<testsuite name="s" timestamp="9999-12-31T23:59:59-14:00"><testcase name="t"/>'
        b"</testsuite>",
        "the timestamp '9999-12-31T23:59:59-14:00', which is out of range",
    ),
}
NULS = {
    "raw-nul.xml": b'<testsuite name="s"><testcase name="t\x00"><failure>a\x00b</failure>'
    b"</testcase></testsuite>",
    "nul-reference.xml": b'<testsuite name="s"><testcase name="t&#0;"><failure>a&#x0;b</failure>'
    b"</testcase></testsuite>",
}


@pytest.fixture
def token(operator):
    return token_create(user=operator, name="ci")[1]


def _post(token: str, name: str, data: bytes):
    upload = {"service": "web", "suite": "e2e", "files": _named(name, data)}
    return Client().post("/api/v1/runs", upload, HTTP_AUTHORIZATION=f"Bearer {token}")


def _named(name: str, data: bytes):
    return SimpleUploadedFile(name, data, content_type="text/xml")


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_api_refuses_each_bad_report_naming_the_file(suite, token, name):
    data, expected = REFUSED[name]

    response = _post(token, name, data)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_file"
    assert body["file"] == name
    assert body["error"].startswith(f"The file {name} ")
    assert expected in body["error"]
    assert (TestRun.objects.count(), TestResult.objects.count()) == (0, 0)
    assert table_sizes() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_upload_form_refuses_each_bad_report_naming_the_file(suite, operator, client, name):
    data, expected = REFUSED[name]
    client.force_login(operator)

    response = client.post(f"/suites/{suite.pk}/upload", {"files": _named(name, data)})

    assert response.status_code == 400
    errors = response.context["form"].errors["files"]
    assert errors[0].startswith(f"The file {name} ")
    assert expected in errors[0]
    assert table_sizes() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_command_refuses_each_bad_report_in_one_line(
    suite, tmp_path, monkeypatch, capsys, name
):
    data, expected = REFUSED[name]
    path = tmp_path / name
    path.write_bytes(data)
    # run_from_argv closes the connections when it ends; the test's transaction needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(
            ["manage.py", "import_junit", str(path), "--service", "web", "--suite", "e2e"]
        )

    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"CommandError: The file {name} ")
    assert expected in err
    assert table_sizes() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("name", sorted(NULS))
def test_a_report_with_nul_characters_is_stored_with_replacement_characters(suite, token, name):
    response = _post(token, name, NULS[name])

    assert response.status_code == 201, response.content
    result = TestResult.objects.select_related("case").get()
    assert (result.case.name, result.details, result.message) == ("t\ufffd", "a\ufffdb", "a\ufffdb")


def test_a_utf32_report_with_its_byte_order_mark_is_imported(suite, token):
    text = f'<?xml version="1.0" encoding="UTF-32"?>\n{BODY}'.replace('"t"', '"caf\u00e9"')
    data = text.encode("utf-32-le")

    response = _post(token, "utf-32-bom.xml", codecs.BOM_UTF32_LE + data)

    assert response.status_code == 201, response.content
    assert TestResult.objects.select_related("case").get().case.name == "caf\u00e9"


def test_placeholder_times_are_imported_as_0_with_warnings(suite, token):
    data = (
        b'<testsuite name="s" time="nan"><testcase name="a" time="inf"/>'
        b'<testcase name="b" time="-1"/></testsuite>'
    )

    response = _post(token, "placeholders.xml", data)

    assert response.status_code == 201, response.content
    run = TestRun.objects.get()
    assert run.duration == 0
    assert run.warnings == [
        "placeholders.xml: case s::a: unreadable time 'inf' recorded as 0",
        "placeholders.xml: case s::b: negative time -1 recorded as 0",
    ]


def test_reports_whose_times_add_up_past_any_date_are_refused(suite, token):
    # Each case takes a year, the most one time may say; 8,000 of them end after year 9999.
    cases = '<testcase name="t{}" time="31622400"/>'
    data = (
        '<testsuite name="s">' + "".join(cases.format(n) for n in range(8000)) + "</testsuite>"
    ).encode()

    response = _post(token, "years.xml", data)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["file"] == "years.xml"
    assert "add up to" in body["error"]
    assert table_sizes() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    "started_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2101-01-01"]
)
def test_a_started_at_out_of_range_is_refused(suite, token, started_at):
    upload = {"service": "web", "suite": "e2e", "started_at": started_at}
    upload["files"] = _named("ok.xml", BODY.encode())

    response = Client().post("/api/v1/runs", upload, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == "started_at"
    assert "out of range" in response.json()["error"]
    assert table_sizes() == (0, 0, 0, 0, 0)
