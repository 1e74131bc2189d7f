"""In Chromium: the analyses list keeps, under "mine", the analyses about tests my team owns."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from analyses.models import Analysis
from runs.models import OwnerRule
from tests.factories import CaseFactory, SuiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mine_keeps_the_analyses_about_my_teams_tests(
    browser_login, live_server, viewer, operator, js_errors
):
    suite = SuiteFactory()
    payments = Group.objects.create(name="payments")
    viewer.groups.add(payments)
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/pay/*", team=payments)
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/chat/*", user=operator)
    for title, file in (("refunds fail", "tests/pay/test_r.py"), ("chat fails", "tests/chat/t.py")):
        analysis = Analysis.objects.create(service=suite.service, title=title, problem="p")
        analysis.cases.set([CaseFactory(suite=suite, key=file, file=file)])
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/analyses/")
    rows = page.locator("#analyses tbody tr")
    assert rows.count() == 2
    assert "owner: team payments" in rows.filter(has_text="refunds fail").inner_text()
    page.click("#analyses-mine a:text-is('mine')")

    page.wait_for_url("**/analyses/?*mine=1*")
    assert rows.count() == 1
    assert "refunds fail" in rows.first.inner_text()
    assert page.locator("#analyses-mine strong").inner_text() == "mine"
    with page.expect_navigation():
        page.click("#analysis-filters button[type=submit]")  # the filters keep "mine"
    assert "mine=1" in page.url and rows.count() == 1
    assert js_errors == []
