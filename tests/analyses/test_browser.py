"""In Chromium: from a failed run to a new analysis with whys and an action item, then the lists."""

from __future__ import annotations

import pytest

from analyses.models import Analysis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_analyzes_a_failed_run_and_finds_it_in_the_lists(
    browser_login, live_server, operator, js_errors
):
    from tests.analyses.conftest import History

    history = History()
    run = history.run({0: "failed", 1: "failed"}, message="socket closed")
    page = browser_login(operator)

    # The analyses page lists the failed run as waiting for an analysis; Analyze is on its page.
    page.goto(f"{live_server.url}/analyses/")
    assert page.locator(f"#waiting tr[data-run='{run.pk}']").count() == 1
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    assert "socket closed" in page.content()
    page.click("button.analyze[data-analyze=run]")

    analysis = Analysis.objects.get()
    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/edit")
    assert "tests/chat.py::test_0 (failed)" in page.input_value("#id_analysis-problem")

    page.fill("#id_whys-0-question", "Why did the chat test fail?")
    page.fill("#id_whys-0-answer", "The socket closed after 30 s.")
    page.click("#add-why")
    page.fill("#id_whys-1-question", "Why did the socket close?")
    page.fill("#id_whys-1-evidence", f"/runs/{run.pk}/")
    page.click("#whys [data-why-row]:nth-child(2) .why-up")  # the second why goes first
    page.fill("#id_analysis-root_causes", "Idle timeout on the proxy")
    page.fill("#id_items-0-what", "Raise the proxy idle timeout")
    page.select_option("#id_items-0-owner", label=operator.username)
    page.fill("#id_items-0-due_date", "2001-01-31")
    page.click("#save-analysis")

    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/")
    whys = page.locator("#whys li")
    assert whys.count() == 2
    assert whys.first.inner_text().startswith("Why did the socket close?")
    assert "Raise the proxy idle timeout" in page.locator("#action-items").inner_text()
    assert "Edited:" in page.locator("#history").inner_text()

    page.goto(f"{live_server.url}/action-items/")
    row = page.locator("#action-items tbody tr").first
    assert "Raise the proxy idle timeout" in row.inner_text() and "overdue" in row.inner_text()

    page.goto(f"{live_server.url}/analyses/?status=draft")
    assert f"#{analysis.pk}" in page.locator("#analyses").inner_text()
    assert page.locator("#waiting").count() == 0
    assert js_errors == []


def test_the_analyses_page_title_is_plain_text(browser_login, live_server, operator, js_errors):
    from tests.analyses.conftest import History

    History().run({0: "failed"})  # a run waiting for an analysis
    page = browser_login(operator)

    page.goto(f"{live_server.url}/analyses/")

    assert page.locator("#waiting tbody tr").count() == 1
    assert page.title() == "Analyses · Stageloop"
    assert js_errors == []


def test_analyze_failures_is_offered_only_for_runs_with_failing_tests(
    browser_login, live_server, operator, js_errors
):
    from tests.analyses.conftest import History

    history = History()
    failing = history.run({0: "failed"})
    # A suite that timed out: an error run whose finished tests all passed.
    timed_out = history.run({})
    type(timed_out).objects.filter(pk=timed_out.pk).update(
        status="error", total=3, passed=3, error="The suite timed out after 60 s."
    )
    page = browser_login(operator)

    page.goto(f"{live_server.url}/analyses/")
    assert page.locator(f"#waiting tr[data-run='{failing.pk}'] button.analyze").count() == 1
    assert page.locator(f"#waiting tr[data-run='{timed_out.pk}'] button.analyze").count() == 0
    page.goto(f"{live_server.url}/runs/{timed_out.pk}/")
    assert page.locator("button.analyze[data-analyze=run]").count() == 0
    page.goto(f"{live_server.url}/runs/{failing.pk}/")
    assert page.locator("button.analyze[data-analyze=run]").count() == 1
    assert js_errors == []


def test_a_refused_save_keeps_the_saved_status_and_a_build_name_links_the_fix(
    browser_login, live_server, operator, js_errors
):
    from analyses.services.analyses import analysis_drafts_for_run
    from tests.analyses.conftest import History

    analysis = analysis_drafts_for_run(run=History().run({0: "failed"}))[0]
    page = browser_login(operator)
    page.goto(f"{live_server.url}/analyses/{analysis.pk}/edit")
    assert page.locator("h1 .badge").inner_text() == "Draft"

    # A junk link refuses the save: the heading still says what is saved.
    page.select_option("#id_analysis-status", "in_review")
    page.fill("#id_items-0-what", "Ship the reconnect fix")
    page.fill("#id_items-0-link", "fixed it yesterday")
    page.click("#save-analysis")
    page.wait_for_selector("#form-errors")
    assert "a commit sha, a build such as stageloop-demo:1.4.1" in page.inner_text("main")
    assert page.locator("h1 .badge").inner_text() == "Draft"
    assert page.input_value("#id_analysis-status") == "in_review"  # what was typed is kept

    # The build that fixes it is accepted as it is named.
    page.fill("#id_items-0-link", "stageloop-demo:1.4.1")
    page.click("#save-analysis")
    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/")
    assert page.locator("#analysis-status").inner_text() == "In review"
    assert "stageloop-demo:1.4.1" in page.locator("#action-items").inner_text()
    # The refused save answers 400 by design; Chromium logs that as a console error.
    assert [e for e in js_errors if "status of 400" not in e] == []
