"""In Chromium: an Operator schedules a suite from its page; a bad interval is refused (by the
browser, and by the server when the browser's check is bypassed) and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from runs.models import Suite
from tests.schedules.conftest import monitored_suite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_schedules_a_suite_and_a_bad_interval_is_refused(
    browser_login, live_server, operator, js_errors, tmp_path: Path
):
    suite = monitored_suite(tmp_path).suite
    page = browser_login(operator)
    page.goto(f"{live_server.url}/suites/{suite.pk}/")
    assert "not scheduled" in page.inner_text("#suite-schedule")

    page.click("#schedule-form summary")
    page.fill("#schedule-minutes", "0")
    page.check("#schedule-enabled")
    page.click("#schedule-save")
    # The browser refuses it before sending: the field says why.
    assert page.eval_on_selector("#schedule-minutes", "el => el.validationMessage") != ""
    assert page.url.endswith(f"/suites/{suite.pk}/")

    # The server refuses it too, with a sentence, when the browser's check is bypassed.
    page.eval_on_selector("#schedule-form form", "form => { form.noValidate = true; }")
    page.click("#schedule-save")
    page.wait_for_selector(".messages .error")
    assert "The schedule was not changed: The interval must be between 1 and 10,080" in (
        page.inner_text(".messages")
    )
    assert Suite.objects.get(pk=suite.pk).schedule_enabled is False

    page.click("#schedule-form summary")
    page.fill("#schedule-minutes", "15")
    page.check("#schedule-enabled")
    page.click("#schedule-save")
    page.wait_for_selector(".messages .success")
    assert "Scheduled every 15 minutes" in page.inner_text(".messages")
    assert "every 15 minutes against the current revision" in page.inner_text("#suite-schedule")
    saved = Suite.objects.get(pk=suite.pk)
    assert (saved.schedule_minutes, saved.schedule_enabled) == (15, True)
    assert js_errors == []
