"""In Chromium: an Operator quarantines a test from its page, then makes it active again."""

from __future__ import annotations

import pytest

from runs.models import TestState
from tests.factories import CaseFactory, SuiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_quarantines_and_releases_a_test_from_its_page(
    browser_login, live_server, operator, js_errors
):
    case = CaseFactory(suite=SuiteFactory(name="e2e"), key="tests/test_pay.py::test_refund")
    page = browser_login(operator)
    page.goto(f"{live_server.url}/tests/{case.pk}/")
    assert "active" in page.inner_text("#test-state-now")

    page.select_option("#test-state-select", "quarantined")
    page.click("#test-state-submit")  # no reason: the page says what is missing
    page.wait_for_selector("text=a reason is required")
    assert not TestState.objects.exists()

    page.select_option("#test-state-select", "quarantined")
    page.fill("#test-state-reason", "fails one run in five on the payment sandbox")
    page.fill("#test-state-expires", "2999-01-01T10:00")
    page.click("#test-state-submit")
    page.wait_for_selector("#test-state-now .badge.quarantined")
    now = page.inner_text("#test-state-now")
    assert "otto-operator" in now and "payment sandbox" in now and "2999-01-01" in now
    assert page.locator("#state-history tbody tr").count() == 1

    page.select_option("#test-state-select", "active")
    page.click("#test-state-submit")
    page.wait_for_selector("#test-state-now .badge.passed")
    assert page.locator("#state-history tbody tr").count() == 2
    assert TestState.objects.get(case=case).state == "active"
    assert js_errors == []
