"""In Chromium: an Operator marks a failure signature as a known issue linked to an analysis from
the run page, and a later run failing the same way shows it."""

from __future__ import annotations

import pytest

from analyses.models import Analysis
from runs.models import FailureSignature
from tests.factories import ServiceFactory, SuiteFactory
from tests.triage.conftest import failing_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_known_issue_marked_on_the_run_page_shows_on_a_later_run(
    browser_login, live_server, operator, js_errors
):
    suite = SuiteFactory(service=ServiceFactory(name="shop"), name="e2e")
    run = failing_run(suite)
    signature = FailureSignature.objects.get(suite=suite)
    analysis = Analysis.objects.create(
        service=suite.service, title="The payment gateway drops requests", problem="502s"
    )
    page = browser_login(operator)

    page.goto(f"{live_server.url}/runs/{run.pk}/")
    group = page.locator(f"#signature-groups li[data-signature='{signature.pk}']")
    assert group.locator(".badge[data-triage]").inner_text() == "Untriaged"
    group.locator(".triage-edit summary").click()
    group.locator("select[name=category]").select_option("known_issue")
    group.locator("select[name=analysis]").select_option(str(analysis.pk))
    group.locator("input[name=comment]").fill("the gateway's 502s, fixed in 2.3")
    group.locator("button", has_text="Save triage").click()
    page.wait_for_url(f"{live_server.url}/runs/{run.pk}/")
    assert "marked known issue" in page.locator("main").inner_text()

    later = failing_run(suite, time="4.75")
    page.goto(f"{live_server.url}/runs/{later.pk}/")
    group = page.locator(f"#signature-groups li[data-signature='{signature.pk}']")
    assert group.locator(".badge[data-triage]").inner_text() == "Known issue"
    assert "the gateway's 502s, fixed in 2.3" in group.inner_text()
    group.locator("a.triage-analysis").click()
    page.wait_for_url(f"{live_server.url}/analyses/{analysis.pk}/")
    assert signature.normalized[:40] in page.locator("#known-issue-of").inner_text()
    assert js_errors == []
