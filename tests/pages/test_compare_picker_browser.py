"""In Chromium: pick two runs or two revisions in the compare picker; land on the comparison."""

from __future__ import annotations

import pytest

from tests.pages.conftest import build_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picking_two_runs_on_the_service_page_opens_their_comparison(
    browser_login, viewer, live_server, js_errors
):
    h = build_history(runs=4, tests=3)
    first, last = h["runs"][0], h["runs"][-1]
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/services/{h['suite'].service.name}/")

    page.select_option("#pick-run-a", str(first.pk))
    page.select_option("#pick-run-b", str(last.pk))
    page.click("#pick-runs-submit")

    page.wait_for_url(f"**/compare?runs={first.pk}&runs={last.pk}")
    assert page.locator("h1").inner_text() == "Compare runs"
    assert "newly failing in B" in page.locator("#change-counts").inner_text()
    assert page.locator("#pick-run-a").input_value() == str(first.pk)
    assert page.locator("#pick-run-b").input_value() == str(last.pk)
    assert js_errors == []


def test_the_compare_page_picker_works_by_keyboard(browser_login, viewer, live_server, js_errors):
    h = build_history(runs=4, tests=3)
    early, late = h["revisions"][0], h["revisions"][-1]
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/compare?runs={h['runs'][0].pk},{h['runs'][-1].pk}")

    page.focus("#pick-revision-a")
    page.select_option("#pick-revision-a", str(early.pk))
    page.keyboard.press("Tab")
    page.select_option("#pick-revision-b", str(late.pk))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.wait_for_url(f"**/compare?revisions={early.pk}&revisions={late.pk}")
    assert page.locator("h1").inner_text() == "Compare revisions"
    assert page.locator("#pick-revision-b").input_value() == str(late.pk)
    assert js_errors == []
