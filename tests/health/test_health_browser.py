"""The health page draws its plotly charts in Chromium, with no JavaScript errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.services import probe_results_record
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import make_probe, outcome


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_health_page_draws_latency_and_uptime_charts(
    browser_login, viewer, live_server, js_errors
):
    # given a service with an hour of probe results
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    service.current_revision = RevisionFactory(service=service, name="web-00003-ccc")
    service.save()
    probe = make_probe(service)
    now = timezone.now()
    probe_results_record(
        outcomes=[
            outcome(probe, at=now - timedelta(minutes=m), latency_ms=20 + m) for m in range(60)
        ]
    )

    # when a viewer opens its health page
    page = browser_login(viewer)
    page.goto(live_server.url + reverse("service-health", args=[service.name]) + "?range=6h")
    page.wait_for_selector("#latency-chart .main-svg")

    # then both charts have data traces drawn, and nothing went wrong in the page
    assert page.evaluate("document.querySelector('#latency-chart').data.length") == 3
    assert page.evaluate("document.querySelector('#uptime-chart').data.length") == 1
    assert page.locator("#latency-chart .scatterlayer .trace").count() == 3
    assert page.locator(".range-picker a[aria-current]").inner_text() == "6 h"
    assert js_errors == []
