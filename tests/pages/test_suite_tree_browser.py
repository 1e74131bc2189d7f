"""In Chromium: the suite tree opens and closes by mouse and keyboard, loads deeper branches
when they are opened, and its leaves lead to the test page."""

from __future__ import annotations

import re

import pytest

from tests.pages.test_suite_tree import wide_suite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_down_to(page, details) -> None:
    """Click open the closed branches around `details`, outermost first."""
    url = details.get_attribute("hx-get")
    while not details.locator(":scope > summary").is_visible():
        closed = page.locator("#suite-tree details:not([open])")
        closed.filter(has=page.locator(f'details[hx-get="{url}"]')).first.locator(
            ":scope > summary"
        ).click()


def test_tree_branches_open_by_mouse_and_keyboard_and_a_leaf_leads_to_its_test(
    browser_login, viewer, live_server, suite, at, js_errors
):
    wide_suite(suite, at, tests=400)  # too big to render whole: deeper branches load on demand
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/suites/{suite.pk}/")
    lazy = page.locator("#suite-tree details[hx-get]")
    first, second = lazy.nth(0), lazy.nth(1)
    assert first.get_attribute("open") is None
    open_down_to(page, first)
    open_down_to(page, second)

    first.locator(":scope > summary").click()
    leaves = first.locator(":scope > ul.tree-children a.tree-label")
    leaves.first.wait_for()
    assert first.get_attribute("open") == ""
    assert leaves.count() >= 2
    first.locator(":scope > summary").click()
    assert first.get_attribute("open") is None

    second.locator(":scope > summary").focus()
    page.keyboard.press("Enter")
    second.locator(":scope > ul.tree-children a.tree-label").first.wait_for()
    assert second.get_attribute("open") == ""
    page.keyboard.press("Space")
    assert second.get_attribute("open") is None

    page.keyboard.press("Enter")
    name = second.locator(":scope > ul.tree-children a.tree-label").first.inner_text()
    second.locator(":scope > ul.tree-children a.tree-label").first.click()
    page.wait_for_url(re.compile(r"/tests/\d+/$"))
    assert name in page.locator("h1").inner_text()
    assert js_errors == []


def test_the_tree_switches_to_packages(browser_login, viewer, live_server, suite, at, js_errors):
    wide_suite(suite, at, tests=12)
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/suites/{suite.pk}/")

    page.click("#tree-packages")
    page.wait_for_url("**tree=packages**")

    assert page.locator("#tree-packages").get_attribute("aria-current") == "true"
    assert page.locator("#tree-view-packages").count() == 1
    assert page.locator("#tree-view-packages .tree-kind").first.inner_text() == "package"
    assert js_errors == []
