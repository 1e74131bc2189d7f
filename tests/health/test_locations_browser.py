"""The health page's per-location table, in Chromium."""

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
def test_the_health_page_shows_each_location_and_which_one_fails(
    browser_login, viewer, live_server, js_errors
):
    # given a probe run from eu and us (2 of 2 open an incident), with us failing its latest checks
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    service.current_revision = RevisionFactory(service=service, name="web-00019-brw")
    service.save()
    probe = make_probe(service, name="healthz", locations=["eu", "us"], quorum=2)
    now = timezone.now()
    for m in range(6, 0, -1):
        at = now - timedelta(minutes=m)
        probe_results_record(outcomes=[outcome(probe, at=at, latency_ms=10 + m)], location="eu")
        probe_results_record(
            outcomes=[outcome(probe, at=at, latency_ms=200, ok=m > 3)], location="us"
        )

    # when a viewer opens the health page
    page = browser_login(viewer)
    page.goto(live_server.url + reverse("service-health", args=[service.name]))

    # then the locations table shows both, us failing and eu fine, with their latency
    eu = page.locator('#locations tr[data-location="eu"]')
    us = page.locator('#locations tr[data-location="us"]')
    assert eu.locator("td").nth(6).inner_text() == "ok"
    assert us.locator("td").nth(6).inner_text() == "failing"
    assert us.locator("td").nth(3).inner_text() == "3"
    assert eu.locator("td").nth(4).inner_text() == "13 ms"
    assert "at 2 of 2 locations (eu, us)" in page.locator("#probes").inner_text()
    assert js_errors == []
