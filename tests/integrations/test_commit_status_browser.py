"""In Chromium: a Manager finds the commit statuses from the webhooks page, narrows them to one
service, posts a failed status again, and sees it delivered to the real local code host."""

from __future__ import annotations

import pytest

from integrations.models import CommitStatus
from integrations.services.commit_statuses import commit_statuses_send_due
from tests.factories import ServiceFactory
from tests.integrations.codehost_server import codehost  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHA = "9c0ffee1a2b3c4d5e6f708192a3b4c5d6e7f8091"
TOKEN = "ghp_BrowserTokenThatMustNeverShow01"


def test_a_manager_posts_a_failed_status_again_from_the_page(
    browser_login,
    live_server,
    manager,
    settings,
    codehost,  # noqa: F811 (the fixture imported above)
    js_errors,
):
    settings.GITHUB_TOKEN, settings.GITHUB_API_URL = TOKEN, codehost.url
    settings.COMMIT_STATUS_TIMEOUT, settings.COMMIT_STATUS_CONNECT_TIMEOUT = 1, 1
    payments = ServiceFactory(name="payments", code_host="github", code_repository="acme/pay")
    other = ServiceFactory(name="search", code_host="github", code_repository="acme/search")
    common = {"host": "github", "sha": SHA, "state": "failure", "next_attempt_at": None}
    failed = CommitStatus.objects.create(
        service=payments,
        repository="acme/pay",
        context="stageloop/payments/e2e",
        status="given_up",
        attempts=8,
        last_status_code=502,
        error=f"The host answered 502 to {TOKEN}. Gave up after 8 attempts.",
        **common,
    )
    CommitStatus.objects.create(
        service=other, repository="acme/search", context="stageloop/search/e2e", **common
    )

    page = browser_login(manager)
    page.click("nav >> text=Webhooks")
    page.click("#commit-statuses-link")
    assert page.locator("#commit-statuses tbody tr").count() == 2
    page.select_option("#status-service", str(payments.pk))
    page.click("#commit-status-filter button[type=submit]")
    assert page.locator("#commit-statuses tbody tr").count() == 1
    assert TOKEN not in page.content()
    assert "The host answered 502 to ****" in page.inner_text(f"#commit-status-{failed.pk}")

    page.click(f"#repost-{failed.pk}")
    assert "Posting again" in page.inner_text(".messages")
    assert commit_statuses_send_due().delivered == 1  # what the worker does on commit
    page.reload()
    rows = page.locator("#commit-statuses tbody tr")
    assert rows.count() == 2
    assert "Delivered" in rows.first.inner_text()
    assert "a newer status followed" in rows.nth(1).inner_text()
    assert codehost.calls[0].path == f"/repos/acme/pay/statuses/{SHA}"
    assert js_errors == []
