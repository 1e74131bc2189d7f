"""In Chromium, with a real worker and the demo's real processes: an Operator deploys the faulty
build gated and sees traffic never move and the verdict say why; deploys the fixed build and sees
it promoted; deploys the slow build as a canary and sees it rolled back at the first step."""

from __future__ import annotations

import re

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from runs.models import Build, Deploy, Service
from tests.gate.test_release_local import SLOW
from tests.loop.conftest import FAULTY, FIXED
from tests.loop.conftest import demo_service as demo_service
from tests.loop.test_pipeline import _deploy_and_test

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHAIN_MS = 120_000


def _deploy_from_the_service_page(page, live_server, service, build: Build, policy: str) -> Deploy:
    before = set(Deploy.objects.values_list("pk", flat=True))
    page.goto(f"{live_server.url}/services/{service.name}/")
    page.select_option("#deploy-build", str(build.pk))
    page.select_option("#deploy-release", policy)
    page.click("button.deploy-and-test")
    deploy = Deploy.objects.exclude(pk__in=before).get()
    page.wait_for_url(f"**/deploys/{deploy.pk}/")
    page.wait_for_function(
        "['succeeded', 'failed'].includes(document.querySelector('#deploy-progress')"
        ".dataset.status)",
        timeout=CHAIN_MS,
    )
    deploy.refresh_from_db()
    return deploy


def test_operator_sees_gated_refusal_promotion_and_a_canary_rolled_back(
    demo_service, operator, browser_login, live_server, settings, js_errors
):
    settings.CANARY_PROBE_INTERVAL = 0.1
    Service.objects.filter(pk=demo_service.pk).update(canary_step_seconds=3)
    service = Service.objects.get(pk=demo_service.pk)
    faulty = Build.objects.get(service=service, image=FAULTY)
    fixed = Build.objects.create(service=service, image=FIXED, commit_sha="9a1b2c3")
    slow = Build.objects.create(service=service, image=SLOW, commit_sha="5d6e7f8")
    stable = _deploy_and_test(service, image=FIXED)[0].revision

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        page = browser_login(operator)

        deploy = _deploy_from_the_service_page(page, live_server, service, faulty, "gated")
        assert page.locator("#deploy-status").inner_text() == "Failed"
        assert page.locator("#release-state").inner_text() == "Refused by the gate"
        note = page.locator("#release-note").inner_text()
        assert "traffic never moved" in note and stable.name in note
        page.click(f"#deploy-progress a[href='{deploy.revision.get_absolute_url()}']")
        assert page.locator("#verdict-outcome").inner_text() == "Fail"
        goal = page.locator("#verdict tr[data-rule=goal]")
        assert "1 failed or errored" in goal.inner_text()
        assert goal.locator(".badge").inner_text() == "fail"
        assert page.locator("#promote").inner_text() == "Promote despite the gate"

        deploy = _deploy_from_the_service_page(page, live_server, service, fixed, "gated")
        assert page.locator("#deploy-status").inner_text() == "Succeeded"
        assert page.locator("#release-state").inner_text() == "Promoted"
        assert f"{deploy.revision.name} (100 %)" in page.locator("#release-note").inner_text()
        promoted = deploy.revision

        deploy = _deploy_from_the_service_page(page, live_server, service, slow, "canary")
        assert page.locator("#release-state").inner_text() == "Rolled back"
        step = page.locator("#canary-steps tr[data-percent='10']")
        assert step.locator(".badge").inner_text() == "fail"
        assert page.locator("#canary-steps tbody tr").count() == 1
        assert f"traffic is back on {promoted.name} (100 %)" in (
            page.locator("#release-note").inner_text()
        )
        page.click("#canary-steps a")
        latency = page.locator("#canary-verdicts tr[data-rule=canary_latency]")
        assert latency.locator(".badge").inner_text() == "fail"
        assert re.search(r"\bp [<=] 0\.\d+", latency.inner_text())
    assert js_errors == []
