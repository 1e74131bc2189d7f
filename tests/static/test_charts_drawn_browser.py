"""charts.js says when every chart of the loaded page is drawn (bench/browser.py waits for it)."""

from __future__ import annotations

import pytest

from tests.pages.conftest import build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_says_charts_drawn_once_every_chart_is_drawn(
    browser_login, viewer, live_server, js_errors
):
    h = build_history(runs=6, tests=4)
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/suites/{h['suite'].pk}/")
    page.wait_for_selector("html[data-charts-drawn='1']")

    charts = page.locator("script[data-chart]").evaluate_all(
        "tags => tags.map(t => t.dataset.chart)"
    )
    assert len(charts) >= 3
    for chart in charts:
        assert page.locator(f"#{chart} .main-svg").count() >= 1, chart
    assert page.evaluate("performance.getEntriesByName('charts-drawn').length") == 1
    assert js_errors == []


def test_a_page_without_charts_never_says_charts_drawn(browser_login, viewer, js_errors):
    page = browser_login(viewer)  # the overview without services has no chart
    page.wait_for_load_state("load")

    assert page.evaluate("document.documentElement.dataset.chartsDrawn") is None
    assert js_errors == []
