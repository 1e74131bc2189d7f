"""The header's time range in Chromium: picking a preset sets it in the URL and changes the
list, a nav link keeps it, and a custom from/to works."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CaseFactory, RevisionFactory, SuiteFactory
from tests.pages.conftest import make_run


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_picking_7_d_in_the_header_filters_the_page_and_survives_navigation(
    browser_login, viewer, live_server, js_errors
):
    # given a suite with one run 3 days old and one 20 days old
    now = timezone.now()
    suite = SuiteFactory(name="e2e")
    case = CaseFactory(suite=suite, key="tests/test_a.py::test_one")
    revision = RevisionFactory(service=suite.service, name="web-00001")
    old = make_run(suite, {case: "failed"}, revision=revision, at=now - timedelta(days=20))
    new = make_run(suite, {case: "passed"}, revision=revision, at=now - timedelta(days=3))
    suite_url = live_server.url + reverse("suite-detail", args=[suite.pk])
    # the runs list, not the suite's latest run, which the page shows whatever the range
    old_link = f"table.runs a[href='{reverse('run-detail', args=[old.pk])}']"
    new_link = f"table.runs a[href='{reverse('run-detail', args=[new.pk])}']"

    # when a viewer opens the suite page (the default 30 d lists both runs)
    page = browser_login(viewer)
    page.goto(suite_url)
    assert page.locator(old_link).count() == 1 and page.locator(new_link).count() == 1

    # and picks "7 d" in the header
    page.locator(".range-picker a", has_text="7 d").click()
    page.wait_for_url("**range=7d")

    # then the URL says so, the picker shows it, and the old run left the list
    assert page.url.startswith(suite_url)
    assert page.locator(".range-picker a[aria-current]").inner_text() == "7 d"
    assert page.locator(old_link).count() == 0 and page.locator(new_link).count() == 1

    # when they follow a header link, and then a link inside a page (to the service)
    page.locator("header nav a", has_text="Analyses").click()
    page.wait_for_url("**/analyses/?range=7d")
    assert page.locator(".range-picker a[aria-current]").inner_text() == "7 d"
    page.goto(live_server.url + reverse("service-detail", args=[suite.service.name]))

    # then the range is kept: remembered for this session and put back in the URL
    page.wait_for_url("**range=7d")
    assert page.locator(old_link).count() == 0 and page.locator(new_link).count() == 1

    # when they choose a custom span around the old run only
    page.goto(suite_url + "?range=7d")
    page.locator(".range-custom summary").click()
    start, end = old.created_at - timedelta(hours=1), old.created_at + timedelta(hours=1)
    page.fill(".range-form input[name=from]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill(".range-form input[name=to]", end.strftime("%Y-%m-%dT%H:%M"))
    page.locator(".range-form button[type=submit]").click()
    page.wait_for_url("**from=*")

    # then only the old run is listed, and the header names the span
    assert "to=" in page.url and "range=" not in page.url
    assert page.locator(old_link).count() == 1 and page.locator(new_link).count() == 0
    assert "UTC" in page.locator(".range-custom summary").inner_text()
    assert js_errors == []
