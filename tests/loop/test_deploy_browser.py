"""In Chromium: an Operator clicks Deploy and test and watches it finish without reloading."""

from __future__ import annotations

import re
import time

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from runs.models import Deploy

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_operator_clicks_deploy_and_test_and_sees_progress_and_the_result(
    demo_service, operator, browser_login, js_errors
):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        page = browser_login(operator)
        page.click(".service-card[data-service=demo-chat] button.deploy-and-test")
        deploy = Deploy.objects.get()
        page.wait_for_url(f"**/deploys/{deploy.pk}/")
        page.evaluate("window.__notReloaded = true")

        widths: list[float] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = page.locator("#deploy-progress").get_attribute("data-status")
            bar = page.locator("#run-progress")
            if bar.count():
                style = bar.get_attribute("style") or ""
                match = re.search(r"width:\s*(\d+)%", style)
                if match:
                    widths.append(float(match.group(1)))
            run_status = page.locator("#run-status")
            if status == "succeeded" and run_status.count() and run_status.inner_text() == "Failed":
                break
            time.sleep(0.25)

        assert page.locator("#deploy-status").inner_text() == "Succeeded"
        assert page.locator("#run-status").inner_text() == "Failed"
        assert "1 failed" in page.locator("#deploy-progress").inner_text()
        assert any(0 < w < 100 for w in widths), widths
        assert widths[-1] == 100
        assert page.evaluate("window.__notReloaded") is True
        assert js_errors == []
