"""In Chromium: an Operator clicks Deploy and test and watches it finish without reloading."""

from __future__ import annotations

import re
import time

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from runs.models import Deploy

# htmx settles a swap in two steps: the new element first wears the old one's style (the bar's
# old width) beside its new text, then its own ~20 ms later. A sample taken in between mixes
# two states, so it is skipped: the element is marked htmx-settling (or -swapping) meanwhile.
SNAPSHOT = """() => {
  const progress = document.querySelector("#deploy-progress");
  if (document.querySelector(".htmx-settling, .htmx-swapping")) return null;
  const bar = document.querySelector("#run-progress");
  const run = document.querySelector("#run-status");
  return {
    status: progress ? progress.dataset.status : null,
    width: bar ? bar.style.width : null,
    run: run ? run.innerText : null,
  };
}"""

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
            # One read of the DOM per sample: separate reads raced the 1 s swap (a stale width).
            snap = page.evaluate(SNAPSHOT)
            if snap is None:
                time.sleep(0.05)
                continue
            match = re.search(r"(\d+(?:\.\d+)?)%", snap["width"] or "")
            if match:
                widths.append(float(match.group(1)))
            if snap["status"] == "succeeded" and snap["run"] == "Failed":
                break
            time.sleep(0.25)

        assert page.locator("#deploy-status").inner_text() == "Succeeded"
        assert page.locator("#run-status").inner_text() == "Failed"
        assert "1 failed" in page.locator("#deploy-progress").inner_text()
        assert any(0 < w < 100 for w in widths), widths
        assert widths[-1] == 100
        assert page.evaluate("window.__notReloaded") is True

        # The analyze step drafts an analysis of the failure; the page links to it, unreloaded.
        link = page.locator(".deploy-analysis").first
        link.wait_for(timeout=60_000)
        assert "drafted from this run" in page.locator(".deploy-analyses").inner_text()
        assert page.evaluate("window.__notReloaded") is True
        link.click()
        page.wait_for_url("**/analyses/*/")
        assert page.locator("#analysis-status").inner_text() == "Draft"
        assert js_errors == []
