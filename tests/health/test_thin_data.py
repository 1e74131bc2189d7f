"""One rule for thin probe data: the health page and the manager's summary both say "not enough
data" below the same number of checks, in the same words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from health.services import probe_results_record
from reports.scope import Scope
from reports.summary import summary_build
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe, outcome

pytestmark = pytest.mark.django_db


def _probe_for_fifteen_minutes(service, checks: int) -> None:
    """A probe every 30 s, all green: what a fresh service has after a quarter of an hour."""
    probe = make_probe(service, name="healthz", interval_seconds=30)
    now = timezone.now()
    probe_results_record(
        outcomes=[outcome(probe, at=now - timedelta(seconds=30 * i)) for i in range(checks)]
    )


def test_fifteen_minutes_of_probes_say_not_enough_data_on_the_page_and_in_the_summary(
    viewer, login
):
    service = ServiceFactory(name="fresh")
    _probe_for_fifteen_minutes(service, checks=31)
    expected = "not enough data (31 checks, needs 100)"

    page = login(viewer).get(reverse("service-health", args=[service.name])).content.decode()
    today = timezone.localdate()
    summary = summary_build(
        scope=Scope(start=today - timedelta(days=1), end=today, services=(service,))
    )

    for tile in ("uptime-24h", "uptime-7d", "uptime-30d"):
        assert f'id="{tile}">{expected}</div>' in page
    assert "100.00 %" not in page
    assert summary.figure("reliability.uptime").text == expected


def test_enough_checks_give_a_figure_on_both_surfaces(viewer, login):
    service = ServiceFactory(name="settled")
    _probe_for_fifteen_minutes(service, checks=100)

    page = login(viewer).get(reverse("service-health", args=[service.name])).content.decode()
    today = timezone.localdate()
    summary = summary_build(
        scope=Scope(start=today - timedelta(days=1), end=today, services=(service,))
    )

    assert 'id="uptime-30d">100.00 %</div>' in page
    assert summary.figure("reliability.uptime").text == "100.0 %"
