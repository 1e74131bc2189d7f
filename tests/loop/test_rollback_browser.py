"""In Chromium: an Operator clicks Roll back on an old revision's page and sees it succeed."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from runs.models import Deploy, Revision
from tests.loop.conftest import process_alive
from tests.loop.test_rollback_page import two_revisions

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_operator_clicks_roll_back_and_sees_the_rollback_deploy_succeed(
    demo_service, operator, browser_login, live_server, js_errors
):
    old, new = two_revisions(demo_service)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        page = browser_login(operator)
        page.goto(f"{live_server.url}{old.get_absolute_url()}")
        page.click("button#rollback")
        rollback = Deploy.objects.get(trigger="rollback")
        page.wait_for_url(f"**/deploys/{rollback.pk}/")

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = page.evaluate(
                "() => document.querySelector('#deploy-progress').dataset.status"
            )
            if status not in ("queued", "running"):
                break
            time.sleep(0.25)

        assert page.locator("#deploy-status").inner_text() == "Succeeded"
        traffic = page.locator("#deploy-traffic").inner_text()
        assert f"before: {new.name} 100 %" in traffic
        assert f"after: {old.name} 100 %" in traffic
        assert js_errors == []
    again = Revision.objects.get(pk=old.pk)
    assert again.status == "ready"
    assert process_alive(again.target_state["pid"])
    demo_service.refresh_from_db()
    assert demo_service.current_revision == again
