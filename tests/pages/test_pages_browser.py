"""In Chromium: every chart is drawn, the run page's filters work, compare works, no JS errors."""

from __future__ import annotations

import pytest

from tests.pages.conftest import build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def traces(page, element_id: str) -> int:
    """How many data traces plotly drew into the element."""
    page.wait_for_selector(f"#{element_id} .main-svg")
    return page.evaluate(f"document.getElementById('{element_id}').data.length")


def test_the_overview_draws_both_trends_of_each_service(browser_login, viewer, js_errors):
    h = build_history(runs=6, tests=4)
    name = h["suite"].service.name

    page = browser_login(viewer)

    assert traces(page, f"day-{name}") == 1
    assert traces(page, f"runs-{name}") == 1
    assert page.locator(f".service-card[data-service={name}] .flaky-count").inner_text() == "1"
    assert js_errors == []


def test_the_suite_page_draws_its_charts(browser_login, viewer, live_server, js_errors):
    h = build_history(runs=9, tests=4)
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/suites/{h['suite'].pk}/")

    assert traces(page, "chart-pass-rate") == 2  # pass rate and deploy markers
    assert traces(page, "chart-per-revision") == 1
    assert traces(page, "chart-durations") == 1
    assert "4 of 8 = 50.0 % of the target" in page.locator("#suite-size").inner_text()
    assert js_errors == []


def test_the_test_page_draws_its_duration_trend(browser_login, viewer, live_server, js_errors):
    h = build_history(runs=4, tests=3)
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/tests/{h['cases'][1].pk}/")

    assert traces(page, "chart-test-duration") == 1
    assert page.locator("#history-strip a").count() == 4
    assert "failing since" in page.locator("#broken-since").inner_text()
    assert js_errors == []


def test_the_run_page_filters_by_outcome_and_searches_by_name(
    browser_login, viewer, live_server, js_errors
):
    h = build_history(runs=4, tests=5)  # last run: test 1 failed, test 4 skipped
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/runs/{h['runs'][-1].pk}/")
    assert page.locator("table.results tbody tr").count() == 5

    page.click("#results-filter a.outcome-failed")
    page.wait_for_url("**outcome=failed")
    assert page.locator("table.results tbody tr").count() == 1
    assert page.locator("table.results tbody tr").get_attribute("data-outcome") == "failed"

    page.click("#results-filter a >> text=all")
    page.fill("#results-filter input[name=q]", "step_003")
    page.click("#results-filter button[type=submit]")
    page.wait_for_url("**q=step_003")
    assert page.locator("table.results tbody tr").count() == 1
    assert "test_step_003" in page.locator("table.results tbody").inner_text()
    assert js_errors == []


def test_compare_opens_from_the_run_page_and_shows_the_differences(
    browser_login, viewer, live_server, js_errors
):
    h = build_history(runs=4, tests=4)
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/runs/{h['runs'][-1].pk}/")

    page.click("#compare-previous")
    page.wait_for_url("**/compare?runs=*")

    assert page.locator("#compare-sides").is_visible()
    assert "newly failing" in page.locator("#diff").inner_text()
    assert js_errors == []


def test_the_test_page_badge_says_the_latest_status(browser_login, viewer, live_server, js_errors):
    h = build_history(runs=4, tests=4)  # last run: test 1 failed, test 2 passed, test 3 skipped
    page = browser_login(viewer)

    for case, latest in ((h["cases"][2], "passed"), (h["cases"][3], "skipped")):
        page.goto(f"{live_server.url}/tests/{case.pk}/")
        assert page.locator("#broken-since .badge").inner_text() == latest
    page.goto(f"{live_server.url}/tests/{h['cases'][1].pk}/")
    assert page.locator("#broken-since .badge").inner_text() == "failed"
    assert "failing since" in page.locator("#broken-since").inner_text()
    assert js_errors == []
