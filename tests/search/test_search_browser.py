"""In Chromium: the header box shows hits as one types, the keyboard and the mouse open them,
and without JavaScript the form still opens the results page."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOX_NAME = "Search services, suites, tests, revisions and failures"


def test_typing_shows_hits_and_enter_on_the_first_opens_the_test(
    browser_login, viewer, world, live_server, js_errors
):
    page = browser_login(viewer)
    box = page.get_by_role("searchbox", name=BOX_NAME)

    box.press_sequentially("redirects_HO")
    hit = page.locator("#search-hits a[data-kind=tests]")
    hit.wait_for()
    assert hit.count() == 1
    assert "test_redirects_home" in hit.inner_text()
    assert "tests/auth/test_login.py" in hit.inner_text()

    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.kind") == "tests"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/tests/{world['login'].pk}/")
    assert js_errors == []


def test_the_arrow_keys_walk_the_hits_and_escape_closes_them(
    browser_login, viewer, world, live_server, js_errors
):
    page = browser_login(viewer)
    box = page.get_by_role("searchbox", name=BOX_NAME)
    box.press_sequentially("checkout")
    page.locator("#search-hits a[data-kind=revisions]").wait_for()

    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.kind") == "services"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.kind") == "revisions"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.press("Escape")
    assert page.locator("#search-hits a").count() == 0
    assert js_errors == []


def test_a_click_on_a_failure_opens_its_newest_run(
    browser_login, viewer, world, live_server, js_errors
):
    page = browser_login(viewer)
    page.get_by_role("searchbox", name=BOX_NAME).press_sequentially("O'Brien")
    page.locator("#search-hits a[data-kind=failures]").click()
    page.wait_for_url(f"{live_server.url}/runs/{world['new_run'].pk}/?q=test_redirects_home")
    assert js_errors == []


def test_enter_in_the_box_opens_the_results_page_grouped_by_kind(
    browser_login, viewer, world, live_server, js_errors
):
    page = browser_login(viewer)
    box = page.get_by_role("searchbox", name=BOX_NAME)
    box.fill("checkout")
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/search?q=checkout")
    assert page.locator("section.search-group h2").all_inner_texts() == [
        "Services 1",
        "Suites 0",
        "Tests 0",
        "Revisions 1",
        "Failures 0",
    ]
    assert page.get_by_role("searchbox", name=BOX_NAME).input_value() == "checkout"
    assert js_errors == []


def test_the_hits_fit_a_phone_screen(browser_login, viewer, world, live_server, js_errors):
    page = browser_login(viewer)
    page.set_viewport_size({"width": 390, "height": 800})
    page.get_by_role("searchbox", name=BOX_NAME).press_sequentially("checkout")
    hits = page.locator("#search-hits")
    hits.locator("a").first.wait_for()
    box = hits.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert js_errors == []


def test_without_javascript_the_form_opens_the_results_and_a_hit_opens_its_page(
    browser, viewer, world, live_server
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", viewer.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.fill("#search-q", "test_login.py")
    page.press("#search-q", "Enter")
    page.wait_for_url(f"{live_server.url}/search?q=test_login.py")
    page.locator("#results-tests a", has_text="test_redirects_home").click()
    page.wait_for_url(f"{live_server.url}/tests/{world['login'].pk}/")
    context.close()
