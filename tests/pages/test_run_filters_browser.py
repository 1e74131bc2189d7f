"""In Chromium: the run page's "new failures only" and "flaky only" links show the right rows."""

from __future__ import annotations

import pytest

from tests.factories import CaseFactory
from tests.pages.conftest import make_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shown_tests(page) -> list[str]:
    return sorted(page.locator("table.results tbody tr td:first-child a.name").all_inner_texts())


def test_new_failures_only_and_flaky_only_show_the_right_rows(
    browser_login, viewer, live_server, suite, at, js_errors
):
    t = [CaseFactory(suite=suite, key=f"tests/test_b.py::test_{i}") for i in range(5)]
    make_run(suite, {t[0]: "failed", t[1]: "passed", t[2]: "passed"}, at=at(1))
    now = make_run(
        suite,
        {t[0]: "failed", t[1]: "failed", t[2]: "passed", t[3]: "error", t[4]: "passed"},
        at=at(2),
        flaky=(t[2],),
    )
    page = browser_login(viewer)
    page.goto(f"{live_server.url}/runs/{now.pk}/")
    assert page.locator("table.results tbody tr").count() == 5

    page.click("#only-new")
    page.wait_for_url("**only=new")
    assert shown_tests(page) == ["test_1", "test_3"]
    assert page.locator("#only-new").get_attribute("aria-current") == "true"

    page.click("#only-flaky")
    page.wait_for_url("**only=flaky")
    assert shown_tests(page) == ["test_2"]

    page.click("#only-all")
    page.wait_for_url(lambda url: "only=" not in url)
    assert page.locator("table.results tbody tr").count() == 5
    assert js_errors == []
