"""SLIs, error budgets and burn-down of SLOs, against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from health.models import ProbeRollupHour, Slo
from health.selectors.slos import (
    SCHEDULED_TRIGGER,
    burn_down,
    slo_counts,
    slo_statuses,
    window_counts,
)
from health.services.rollups import day_rollups_refresh
from tests.factories import RunFactory, ServiceFactory, SuiteFactory
from tests.health.slo_support import T0, hours, probe_for, slo_for

pytestmark = pytest.mark.django_db


def _status(service, name):
    return next(s for s in slo_statuses([service.pk], now=T0)[service.pk] if s.slo.name == name)


def test_availability_sli_and_budget_over_28_days():
    # given 28 days of hour rollups, 360 checks each (241,920 checks), 100 of them failed,
    # and a terrible hour just before the window that must not count
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.9, name="availability")
    hours(probe, start=T0 - timedelta(hours=672), count=672, per_hour=360)
    hours(probe, start=T0 - timedelta(days=30), count=1, per_hour=1000, bad=1000)
    ProbeRollupHour.objects.filter(
        bucket_start__in=[T0 - timedelta(hours=h) for h in (10, 20, 30, 40)], count=360
    ).update(ok_count=335)
    day_rollups_refresh(since=None)

    # when its status is read
    status = _status(service, "availability")

    # then: SLI 1 - 100/241,920; budget 0.1 % of 241,920 = 241.92, 141.92 left (58.66 %)
    assert status.counts.total == 241_920 and status.counts.bad == 100
    assert status.sli_percent == pytest.approx(100 * (1 - 100 / 241_920))
    assert status.budget_total == pytest.approx(241.92)
    assert status.budget_consumed == 100
    assert status.budget_remaining == pytest.approx(141.92)
    assert status.budget_remaining_percent == pytest.approx(100 * 141.92 / 241.92)
    assert status.state == "ok" and not status.exhausted


def test_latency_sli_counts_responses_above_the_threshold_bin_as_bad():
    # given 10 hours of 1,000 responses: 985 at 120 ms, 5 at exactly 300 ms, 10 at 400 ms
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.0, kind="latency", name="fast", latency_threshold_ms=300)
    hours(
        probe,
        start=T0 - timedelta(hours=10),
        count=10,
        per_hour=1000,
        latencies={120.0: 985, 300.0: 5, 400.0: 10},
    )

    status = _status(service, "fast")

    # then 10,000 responses, 100 slow (300 ms is good): the 1 % budget (100) is spent
    assert (status.counts.total, status.counts.bad) == (10_000, 100)
    assert status.sli_percent == pytest.approx(99.0)
    assert status.budget_remaining == pytest.approx(0.0)
    assert status.exhausted and status.state == "exhausted"


def test_tests_sli_counts_finished_scheduled_runs_only():
    # given 20 finished scheduled runs (18 passed, 1 failed, 1 error), a cancelled scheduled
    # run and a failed manual run
    service = ServiceFactory()
    suite = SuiteFactory(service=service)
    slo_for(service, objective=95.0, kind="tests", name="e2e")
    done = T0 - timedelta(hours=1)
    for status in ["passed"] * 18 + ["failed", "error", "cancelled"]:
        RunFactory(suite=suite, status=status, trigger=SCHEDULED_TRIGGER, finished_at=done)
    RunFactory(suite=suite, status="failed", trigger="manual", finished_at=done)

    status = _status(service, "e2e")

    # then 2 bad of 20: SLI 90 %, budget 5 % of 20 = 1 run, spent twice over (-100 %)
    assert (status.counts.total, status.counts.bad) == (20, 2)
    assert status.sli_percent == pytest.approx(90.0)
    assert status.budget_remaining_percent == pytest.approx(-100.0)
    assert status.exhausted


def test_no_data_is_no_sli_and_no_budget():
    service = ServiceFactory()
    slo_for(service, objective=99.9, name="availability")

    status = _status(service, "availability")

    assert status.sli_percent is None and status.budget_remaining_percent is None
    assert status.state == "no_data" and not status.exhausted


@pytest.mark.parametrize("hours_of_data", [1, 500])
def test_statuses_take_the_same_few_queries_whatever_the_data(
    hours_of_data, django_assert_max_num_queries
):
    # given three services with an SLO of each kind, and little or much data
    services = [ServiceFactory() for _ in range(3)]
    for service in services:
        probe = probe_for(service)
        slo_for(service, objective=99.9, name="availability")
        slo_for(service, objective=99.0, kind="latency", name="fast", latency_threshold_ms=300)
        slo_for(service, objective=95.0, kind="tests", name="e2e")
        hours(
            probe,
            start=T0 - timedelta(hours=hours_of_data),
            count=hours_of_data,
            per_hour=360,
            bad=1,
            latencies={100.0: 359},
        )

    # then: SLOs; tests; availability and latency each from the hours at the window's two ends
    # and the whole days between (one query per kind); open alerts; on PostgreSQL also the
    # savepoint, SET LOCAL and release that keep the reads off parallel workers
    with django_assert_max_num_queries(8):
        statuses = slo_statuses([s.pk for s in services], now=T0)
    assert all(len(v) == 3 for v in statuses.values())
    assert statuses[services[0].pk][0].counts.total == 360 * hours_of_data


def test_burn_down_per_hour_of_a_7_day_window():
    # given 7 days of 100 checks an hour; 10 fail in hour 24 of the window, 20 in hour 100
    service = ServiceFactory()
    probe = probe_for(service)
    slo = slo_for(service, objective=99.9, window_days=Slo.Window.WEEK)
    start = T0 - timedelta(days=7)
    hours(probe, start=start, count=168, per_hour=100)
    ProbeRollupHour.objects.filter(bucket_start=start + timedelta(hours=24)).update(ok_count=90)
    ProbeRollupHour.objects.filter(bucket_start=start + timedelta(hours=100)).update(ok_count=80)

    points = burn_down(slo, now=T0)

    # then the budget is 0.1 % of 16,800 = 16.8: 100 % until hour 24 ends, then
    # (16.8 - 10) / 16.8 = 40.48 %, and (16.8 - 30) / 16.8 = -78.57 % after hour 100
    assert len(points) == 169
    assert points[0].time == start and points[0].remaining_percent == 100.0
    assert points[24].remaining_percent == pytest.approx(100.0)
    assert points[25].time == start + timedelta(hours=25)
    assert points[25].remaining_percent == pytest.approx(100 * 6.8 / 16.8)
    assert points[101].remaining_percent == pytest.approx(100 * -13.2 / 16.8)
    assert points[-1].time == T0


def test_burn_down_is_empty_without_data():
    service = ServiceFactory()
    slo = slo_for(service, objective=99.9)

    assert burn_down(slo, now=T0) == []


@override_settings(TIME_ZONE="Europe/Berlin")
@pytest.mark.parametrize("hour_of_day", [0, 7, 23])
def test_a_window_read_from_days_and_its_end_hours_counts_what_the_hours_count(hour_of_day):
    # given 40 days of hour rollups across the autumn change in Berlin, every hour a different
    # count, some bad checks and slow responses
    service = ServiceFactory()
    probe = probe_for(service)
    slos = [
        slo_for(service, objective=99.9, name="availability"),
        slo_for(service, objective=99.0, kind="latency", name="fast", latency_threshold_ms=300),
    ]
    now = datetime(2026, 11, 10, hour_of_day, 17, tzinfo=UTC)
    start = now - timedelta(days=40)
    hours(probe, start=start, count=40 * 24, per_hour=100, latencies={120.0: 90, 400.0: 10})
    for h in range(0, 40 * 24, 7):
        ProbeRollupHour.objects.filter(bucket_start=start + timedelta(hours=h)).update(
            count=100 + h % 13, ok_count=95
        )
    day_rollups_refresh(since=None)

    # when a 28-day window is read from days and end hours, and from hours alone
    window = (now - timedelta(days=28), now)
    mixed = window_counts(slos, window)
    hourly = slo_counts(slos, [window], fine=False)

    # then both count the same checks and the same bad ones
    assert {pk: (c.total, c.bad) for pk, c in mixed.items()} == {
        pk: (found[0].total, found[0].bad) for pk, found in hourly.items()
    }
    assert mixed[slos[0].pk].bad > 0 and mixed[slos[1].pk].bad > 0
