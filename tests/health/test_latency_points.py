"""Sealed chart points: each closed hour and local day's percentiles computed once, read by the
charts and the overview in place of merging sketches, with the same figures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from health import sketch
from health.models import LatencyPoint, LatencySeal, ProbeRollupDay, ProbeRollupHour
from health.ranges import RANGES, TimeRange
from health.selectors import latency_series
from health.selectors.latency import latency_p95_by_service
from health.services import probe_results_record
from health.services.sealing import latency_points_seal
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import make_probe, outcome

pytestmark = pytest.mark.django_db

END = datetime(2026, 3, 31, 10, 30, tzinfo=UTC)


def _history(*, days: int = 3, step_minutes: int = 30) -> list:
    """Two services with two probes each, the first on two revisions, recorded up to END."""
    rng = random.Random(19)
    services = [ServiceFactory(), ServiceFactory()]
    revisions = [RevisionFactory(service=services[0]), RevisionFactory(service=services[0])]
    for n, service in enumerate(services):
        for probe in (make_probe(service), make_probe(service)):
            outcomes = []
            at = END - timedelta(days=days)
            while at < END:
                revision = revisions[at > END - timedelta(days=1)].name if n == 0 else ""
                latency = rng.lognormvariate(3 + n, 0.6)
                outcomes.append(outcome(probe, at=at, latency_ms=latency, revision=revision))
                at += timedelta(minutes=step_minutes)
            probe_results_record(outcomes=outcomes, incidents=False)
    return services


def _reads(services, end=END):
    ids = [s.pk for s in services]
    return {
        key: (
            [latency_series(service_id=i, time_range=RANGES[key], end=end) for i in ids],
            latency_p95_by_service(service_ids=ids, time_range=RANGES[key], end=end),
        )
        for key in ("24h", "7d", "30d")
    }


@override_settings(TIME_ZONE="Europe/Berlin")
def test_sealed_points_show_what_merging_the_rollups_showed():
    # given three days of results, across the daylight-saving change of 29 March in Berlin
    services = _history()
    before = _reads(services)

    # when the closed hours and days are sealed
    written = latency_points_seal(now=END)

    # then hours up to 10:00 and Berlin days up to 31 March are points: a day point per service
    # and revision (the first service deployed on 30 March: two that day)
    assert LatencySeal.objects.get(step="hour").sealed_until == datetime(
        2026, 3, 31, 10, tzinfo=UTC
    )
    assert LatencySeal.objects.get(step="day").sealed_until == datetime(2026, 3, 30, 22, tzinfo=UTC)
    assert written == {"hour": LatencyPoint.objects.filter(step="hour").count(), "day": 7}
    assert sorted(
        set(LatencyPoint.objects.filter(step="day").values_list("bucket_start", flat=True))
    ) == [
        datetime(2026, 3, 27, 23, tzinfo=UTC),  # 28 March
        datetime(2026, 3, 28, 23, tzinfo=UTC),  # 29 March: 23 hours
        datetime(2026, 3, 29, 22, tzinfo=UTC),  # 30 March
    ]
    # and every chart and sparkline shows the same points, to the last digit
    assert _reads(services) == before


@override_settings(TIME_ZONE="Europe/Berlin")
def test_reads_take_sealed_steps_from_points_and_merge_only_the_open_ones(
    django_assert_max_num_queries,
):
    services = _history(days=2)
    expected = _reads(services)
    latency_points_seal(now=END)
    # the sealed rollups could be gone: the reads must not touch them
    ProbeRollupHour.objects.filter(bucket_start__lt=datetime(2026, 3, 31, 10, tzinfo=UTC)).delete()
    ProbeRollupDay.objects.filter(bucket_start__lt=datetime(2026, 3, 30, 22, tzinfo=UTC)).delete()

    with django_assert_max_num_queries(3):
        cards = latency_p95_by_service(
            service_ids=[s.pk for s in services], time_range=RANGES["30d"], end=END
        )
    with django_assert_max_num_queries(4):
        series = latency_series(service_id=services[0].pk, time_range=RANGES["7d"], end=END)

    assert cards == expected["30d"][1]
    assert series == expected["7d"][0][0]


def test_sealing_is_incremental_and_waits_for_a_bucket_to_close():
    services = _history(days=1)
    latency_points_seal(now=END)
    assert latency_points_seal(now=END) == {"hour": 0, "day": 0}

    # a minute after 11:00 the 10:00 hour is not sealed yet; three minutes after, it is
    probe_results_record(
        outcomes=[outcome(services[1].probes.first(), at=END + timedelta(minutes=5))],
        incidents=False,
    )
    assert latency_points_seal(now=datetime(2026, 3, 31, 11, 1, tzinfo=UTC))["hour"] == 0
    assert latency_points_seal(now=datetime(2026, 3, 31, 11, 3, tzinfo=UTC))["hour"] == 2
    assert LatencySeal.objects.get(step="hour").sealed_until == datetime(
        2026, 3, 31, 11, tzinfo=UTC
    )


def test_resealing_since_a_moment_recomputes_the_points_from_the_rollups():
    _history(days=1)
    latency_points_seal(now=END)
    # given one hour's rollups changed after sealing (as rebuild_latency_sketches does)
    hour = datetime(2026, 3, 31, 3, tzinfo=UTC)
    ProbeRollupHour.objects.filter(bucket_start=hour).update(sketch={"400": 5})

    latency_points_seal(now=END, since=hour)

    points = LatencyPoint.objects.filter(step="hour", bucket_start=hour)
    assert len(points) == 2  # one per service
    for point in points:
        assert (point.p50, point.p95, point.p99) == (sketch.value_of("400"),) * 3
        assert point.samples == 10  # two probes x 5 samples in the one bin
    # and the seal is back where it was
    assert LatencySeal.objects.get(step="hour").sealed_until == datetime(
        2026, 3, 31, 10, tzinfo=UTC
    )


def test_the_overview_shows_a_day_as_24_hourly_points():
    services = _history(days=1, step_minutes=10)
    latency_points_seal(now=END)

    cards = latency_p95_by_service(service_ids=[services[1].pk], time_range=RANGES["24h"], end=END)

    times = [t for t, _ in cards[services[1].pk]]
    assert len(times) == 25  # 10:00 yesterday (partly in range) to 10:00 today (open)
    assert all(t.minute == 0 for t in times)
    assert times[0] == datetime(2026, 3, 30, 10, tzinfo=UTC)


def test_the_first_pass_seals_recent_hours_and_older_weeks_are_still_charted():
    # given 45 days of hour rollups (and their days) of one probe, written before any seal
    probe = make_probe(ServiceFactory())
    first = datetime(2026, 2, 14, tzinfo=UTC)
    hours = [
        ProbeRollupHour(
            probe=probe,
            bucket_start=first + timedelta(hours=h),
            count=3,
            ok_count=3,
            sketch={sketch.key_of(10 + h % 24): 2, sketch.key_of(90 + h % 7): 1},
        )
        for h in range(45 * 24)
    ]
    ProbeRollupHour.objects.bulk_create(hours)
    old_week = TimeRange("", "custom", timedelta(days=7), "hour", 3600)
    old_end = END - timedelta(days=38)
    before = [
        latency_series(service_id=probe.service_id, time_range=r, end=e)
        for r, e in ((old_week, old_end), (RANGES["7d"], END))
    ]

    latency_points_seal(now=END)

    # then hours are sealed from 32 days back only, and both weeks chart as before
    seal = LatencySeal.objects.get(step="hour")
    assert (seal.sealed_from, seal.sealed_until) == (
        datetime(2026, 2, 27, 10, tzinfo=UTC),
        datetime(2026, 3, 31, 10, tzinfo=UTC),
    )
    after = [
        latency_series(service_id=probe.service_id, time_range=r, end=e)
        for r, e in ((old_week, old_end), (RANGES["7d"], END))
    ]
    assert after == before
    assert len(after[0][0].points) == 7 * 24 + 1  # and the hour the range starts in
