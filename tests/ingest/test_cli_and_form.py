"""The other two doors: manage.py import_junit and the upload form on the suite page."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from runs.models import ApiToken, TestRun
from tests.factories import RevisionFactory
from tests.ingest.conftest import EXPECTED, HOSTILE, JUNIT, counts, table_sizes

pytestmark = pytest.mark.django_db


def _cli(*args: str) -> str:
    out = StringIO()
    call_command("import_junit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_command_imports_each_real_report(suite, name):
    output = _cli(str(JUNIT / name), "--service", "web", "--suite", "e2e")

    run = TestRun.objects.get()
    assert counts(run) == EXPECTED[name]
    assert f"Imported run #{run.pk}: http://127.0.0.1:8000/runs/{run.pk}/" in output
    assert f"{EXPECTED[name][0]} tests: {EXPECTED[name][1]} passed" in output
    assert run.trigger == "cli"


def test_the_command_creates_suite_and_revision_when_asked(suite):
    _cli(
        str(JUNIT / "mocha.xml"),
        "--service",
        "web",
        "--suite",
        "nightly",
        "--revision",
        "web-00009",
        "--commit",
        "abc123",
        "--started-at",
        "2026-11-20T08:00:00Z",
        "--create",
    )

    run = TestRun.objects.get()
    assert (run.suite.name, run.revision.name, run.revision.commit_sha) == (
        "nightly",
        "web-00009",
        "abc123",
    )
    assert run.started_at.isoformat() == "2026-11-20T08:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--service", "nope", "--suite", "e2e"], "There is no service named 'nope'"),
        (["--service", "web", "--suite", "other"], "has no suite named 'other'"),
        (["--service", "web", "--suite", "e2e", "--started-at", "soon"], "not an ISO 8601 time"),
    ],
)
def test_the_command_fails_with_one_clear_line(suite, args, message):
    with pytest.raises(CommandError, match=message):
        _cli(str(JUNIT / "mocha.xml"), *args)
    assert TestRun.objects.count() == 0


def test_the_command_refuses_a_hostile_file_and_stores_nothing(suite, tmp_path):
    bad = tmp_path / "lol.xml"
    bad.write_bytes(HOSTILE["billion-laughs.xml"][0])

    with pytest.raises(CommandError, match="DTDs and entities are not allowed"):
        _cli(str(JUNIT / "mocha.xml"), str(bad), "--service", "web", "--suite", "e2e")
    assert table_sizes() == (0, 0, 0, 0, 0)


def test_the_command_names_a_missing_file(suite):
    with pytest.raises(CommandError, match="does not exist"):
        _cli("/nonexistent/report.xml", "--service", "web", "--suite", "e2e")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_upload_form_imports_each_real_report(login, operator, suite, name):
    with (JUNIT / name).open("rb") as report:
        response = login(operator).post(f"/suites/{suite.pk}/upload", {"files": [report]})

    run = TestRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run.get_absolute_url()
    assert counts(run) == EXPECTED[name]
    assert run.created_by == operator


def test_the_upload_form_shows_the_error_and_stores_nothing(login, operator, suite, tmp_path):
    bad = tmp_path / "not-junit.xml"
    bad.write_bytes(HOSTILE["not-junit.xml"][0])

    with (JUNIT / "mocha.xml").open("rb") as good, bad.open("rb") as evil:
        response = login(operator).post(f"/suites/{suite.pk}/upload", {"files": [good, evil]})

    assert response.status_code == 400
    assert "root element is &lt;suites&gt;" in response.content.decode()
    assert table_sizes() == (0, 0, 0, 0, 0)


def test_the_upload_form_records_the_chosen_revision(login, operator, suite):
    older = RevisionFactory(service=suite.service, name="web-00041")
    chosen = RevisionFactory(service=suite.service, name="web-00042")

    with (JUNIT / "mocha.xml").open("rb") as report:
        response = login(operator).post(
            f"/suites/{suite.pk}/upload", {"files": [report], "revision": chosen.pk}
        )

    run = TestRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run.get_absolute_url()
    assert run.revision == chosen != older


def test_the_upload_form_shows_every_field_error(login, operator, suite):
    other_service_revision = RevisionFactory()

    response = login(operator).post(
        f"/suites/{suite.pk}/upload", {"revision": other_service_revision.pk}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="files-errors"' in page
    assert 'id="revision-errors"' in page
    assert "is not a revision of" in page
    assert TestRun.objects.count() == 0


def test_a_viewer_cannot_upload(login, viewer, suite):
    with (JUNIT / "mocha.xml").open("rb") as report:
        response = login(viewer).post(f"/suites/{suite.pk}/upload", {"files": [report]})

    assert response.status_code == 403
    assert TestRun.objects.count() == 0


def test_a_token_is_shown_once_and_can_be_revoked(login, operator):
    client = login(operator)

    created = client.post("/account/tokens/", {"name": "GitHub Actions"}).content.decode()
    token = ApiToken.objects.get()
    assert f"{token.prefix}" in created
    assert 'id="token-secret"' in created
    listing = client.get("/account/tokens/").content.decode()
    assert 'id="token-secret"' not in listing
    assert "GitHub Actions" in listing

    client.post(f"/account/tokens/{token.pk}/revoke")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_user_cannot_revoke_someone_elses_token(login, operator, viewer):
    from runs.services.tokens import token_create

    token, _ = token_create(user=operator, name="ci")

    login(viewer).post(f"/account/tokens/{token.pk}/revoke")

    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_operator_uploads_a_report_in_the_browser(browser_login, operator, js_errors):
    from tests.factories import ServiceFactory, SuiteFactory

    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    page = browser_login(operator)

    page.goto(f"{page.url.rstrip('/')}/suites/{suite.pk}/upload")
    page.set_input_files("#id_files", [str(JUNIT / "pytest-fail.xml"), str(JUNIT / "mocha.xml")])
    page.click("#upload-form button[type=submit]")

    run = TestRun.objects.get()
    page.wait_for_url(f"**/runs/{run.pk}/")
    assert "Imported 114 tests" in page.content()
    assert counts(run) == (114, 112, 1, 0, 1, 0)
    assert js_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_a_chosen_revision_is_recorded_and_a_bad_file_is_explained(
    browser_login, operator, live_server, js_errors, tmp_path
):
    from tests.factories import ServiceFactory, SuiteFactory

    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    revision = RevisionFactory(service=suite.service, name="web-00042")
    page = browser_login(operator)

    page.goto(f"{live_server.url}/suites/{suite.pk}/upload")
    page.select_option("#id_revision", label="web-00042")
    page.set_input_files("#id_files", [str(JUNIT / "pytest-fail.xml")])
    page.click("#upload-form button[type=submit]")

    page.wait_for_url(f"{live_server.url}/runs/*/")
    run = TestRun.objects.get()
    assert run.revision == revision
    assert page.url == f"{live_server.url}/runs/{run.pk}/"
    assert "web-00042" in page.locator("main").inner_text()

    bad = tmp_path / "not-junit.xml"
    bad.write_bytes(HOSTILE["not-junit.xml"][0])
    page.goto(f"{live_server.url}/suites/{suite.pk}/upload")
    page.set_input_files("#id_files", [str(bad)])
    page.click("#upload-form button[type=submit]")

    error = page.locator("#files-errors")
    error.wait_for()
    assert "root element is <suites>" in error.inner_text()
    assert TestRun.objects.count() == 1
    # Chromium reports the refused upload's 400 status on the console; nothing else may fail.
    assert [e for e in js_errors if "status of 400" not in e] == []


def test_the_upload_form_takes_an_archive_with_its_attachments(login, operator, suite):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from runs.models import TestAttachment
    from tests.attachment_files import png, report, targz_of

    archive = targz_of({"junit.xml": report("shots/a.png"), "shots/a.png": png()})
    response = login(operator).post(
        f"/suites/{suite.pk}/upload", {"files": [SimpleUploadedFile("results.tar.gz", archive)]}
    )

    run = TestRun.objects.get()
    assert response.status_code == 302
    (attachment,) = TestAttachment.objects.filter(run=run)
    assert attachment.content_type == "image/png" and attachment.size > 0
