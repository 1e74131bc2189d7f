"""The test page of a failed result in Chromium: highlighted traceback, output, attachments
(an image shown, a file that downloads) and each attempt of the rerun."""

from __future__ import annotations

import pytest

from runs.models import TestAttachment, TestRun
from tests.attachment_files import TRACEBACK, png, targz_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# pytest-rerunfailures writes each try of a rerun test as its own <testcase>.
REPORT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.test_checkout" name="test_pay" time="0.4">
  <failure message="ConnectionError: card service down">ConnectionError: card service down</failure>
  <system-out>first try: connecting</system-out>
</testcase>
<testcase classname="tests.test_checkout" name="test_pay" time="0.6">
  <failure message="AssertionError: total">{_xml(TRACEBACK)}</failure>
  <system-out>paying 10 EUR &lt;script&gt;alert(1)&lt;/script&gt;
[[ATTACHMENT|shots/test_pay.png]]
[[ATTACHMENT|logs/server.log]]
[[ATTACHMENT|/etc/passwd]]</system-out>
  <system-err>warning: slow card</system-err>
</testcase>
</testsuite></testsuites>
""".encode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_test_page_shows_the_failure_its_output_attachments_and_attempts(
    browser_login, operator, live_server, js_errors, tmp_path
):
    from tests.factories import ServiceFactory, SuiteFactory

    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    archive = tmp_path / "results.tar.gz"
    archive.write_bytes(
        targz_of(
            {
                "junit.xml": REPORT,
                "shots/test_pay.png": png(120, 60),
                "logs/server.log": b"GET /pay 500\n",
            }
        )
    )
    page = browser_login(operator)

    # Uploaded through the form, as a user would.
    page.goto(f"{live_server.url}/suites/{suite.pk}/upload")
    page.set_input_files("#id_files", [str(archive)])
    page.click("#upload-form button[type=submit]")
    run = TestRun.objects.get()
    page.wait_for_url(f"**/runs/{run.pk}/")

    # From the run page's failure to the test page of that result.
    page.click("details.failure summary")
    page.click("text=highlighted, with output, attachments and attempts")
    page.wait_for_selector("#test-result")

    details = page.locator("#result-details")
    assert "AssertionError: <b>total</b>" in details.inner_text()
    assert details.locator("span.gt").count() == 1  # the traceback's header, highlighted
    assert details.locator("b").count() == 0  # the report's markup is text, never HTML

    stdout = page.locator("#result-stdout")
    assert not stdout.locator("pre").is_visible()
    stdout.locator("summary").click()
    assert "paying 10 EUR <script>alert(1)</script>" in stdout.locator("pre").inner_text()
    page.locator("#result-stderr summary").click()
    assert "warning: slow card" in page.locator("#result-stderr pre").inner_text()

    image = page.locator("#result-attachments img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#result-attachments img');"
        " return i && i.complete && i.naturalWidth === 120; }"
    )
    assert image.is_visible()
    attachments = page.locator("#result-attachments").inner_text()
    assert "attachment '/etc/passwd' is outside the upload; not read." in attachments

    with page.expect_download() as download_info:
        page.locator("#result-attachments a.attachment-link", has_text="server.log").click()
    download = download_info.value
    assert download.suggested_filename == "server.log"
    assert download.path().read_bytes() == b"GET /pay 500\n"

    attempts = page.locator("#result-attempts > li")
    assert attempts.count() == 2
    assert "card service down" in attempts.nth(0).inner_text()
    attempts.nth(0).locator("summary").click()
    assert "first try: connecting" in attempts.nth(0).inner_text()
    assert "AssertionError" in attempts.nth(1).inner_text()

    assert page.locator("#history-strip a").count() == 1
    assert TestAttachment.objects.exclude(file="").count() == 2
    assert js_errors == []


def test_attachments_are_served_so_that_they_never_run_as_pages(login, operator, tmp_path):
    from runs.services.ingest import ReportFile, run_import
    from tests.attachment_files import report, zip_of
    from tests.factories import ServiceFactory, SuiteFactory

    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    archive = zip_of(
        {
            "junit.xml": report("a.png", "page.html", "fake.png"),
            "a.png": png(),
            "page.html": b"<script>alert(1)</script>",
            "fake.png": b"<html><script>alert(1)</script></html>",
        }
    )
    run = run_import(suite=suite, files=[ReportFile("r.zip", archive)]).run
    client = login(operator)
    shown = {}
    for attachment in TestAttachment.objects.filter(run=run):
        shown[attachment.name] = client.get(f"/attachments/{attachment.pk}")

    image = shown["a.png"]
    assert (image["Content-Type"], image["X-Content-Type-Options"]) == ("image/png", "nosniff")
    assert "attachment" not in image.get("Content-Disposition", "")
    for name in ("page.html", "fake.png"):
        response = shown[name]
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
