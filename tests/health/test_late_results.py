"""Results recorded after their hour or day was sealed (a batch recorded late): the sealed points
they change are reopened, so the charts merge the rollups again at once and the next sealing
pass recomputes them; results recorded in time never touch the seal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from health.models import LatencyPoint, LatencySeal, ProbeRollupHour
from health.ranges import RANGES, local_day_start
from health.selectors import latency_series
from health.services import probe_results_record
from health.services.sealing import _seal_chunk, latency_points_seal
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe, outcome

pytestmark = pytest.mark.django_db

END = datetime(2026, 3, 31, 10, 30, tzinfo=UTC)
LATE_HOUR = datetime(2026, 3, 30, 3, tzinfo=UTC)


def _sealed_history():
    """Two days of one probe's results every 10 minutes at about 20 ms, sealed at END."""
    service = ServiceFactory()
    probe = make_probe(service)
    at, outcomes = END - timedelta(days=2), []
    while at < END:
        outcomes.append(outcome(probe, at=at, latency_ms=20.0 + at.minute / 10))
        at += timedelta(minutes=10)
    probe_results_record(outcomes=outcomes, incidents=False)
    latency_points_seal(now=END)
    return service, probe


def _record_late(probe, *, latency_ms: float = 900.0) -> None:
    """A batch of 60 slow results checked in LATE_HOUR, recorded now (hours after)."""
    probe_results_record(
        outcomes=[
            outcome(probe, at=LATE_HOUR + timedelta(minutes=m), latency_ms=latency_ms)
            for m in range(60)
        ],
        incidents=False,
    )


def _charted_p95(service, range_key: str, at: datetime) -> float:
    [series] = latency_series(service_id=service.pk, time_range=RANGES[range_key], end=END)
    [point] = [p for p in series.points if p.time == at]
    return point.p95


def _seal(step: str) -> datetime:
    return LatencySeal.objects.get(step=step).sealed_until


def test_a_late_result_changes_the_charted_p95_of_its_sealed_hour_and_day():
    # given an hour and a day sealed with a p95 of about 20 ms
    service, probe = _sealed_history()
    day = local_day_start(LATE_HOUR)
    assert _charted_p95(service, "7d", LATE_HOUR) < 30
    assert _charted_p95(service, "30d", day) < 30
    sealed_until = {step: _seal(step) for step in ("hour", "day")}

    # when a batch checked in that hour is recorded hours later
    _record_late(probe)

    # then the charts show it at once (the hour's p95 is now the slow results', within 1 %)
    assert _charted_p95(service, "7d", LATE_HOUR) == pytest.approx(900, rel=0.02)
    assert _charted_p95(service, "30d", day) == pytest.approx(900, rel=0.02)
    # because the seals were moved back to the buckets the batch changed
    assert (_seal("hour"), _seal("day")) == (LATE_HOUR, day)
    # and the next sealing pass recomputes those points and moves the seals forward again
    latency_points_seal(now=END)
    assert {step: _seal(step) for step in ("hour", "day")} == sealed_until
    point = LatencyPoint.objects.get(step="hour", bucket_start=LATE_HOUR)
    assert (point.p95, point.samples) == (
        pytest.approx(900, rel=0.02),
        66,  # six results on time, sixty late
    )
    assert _charted_p95(service, "7d", LATE_HOUR) == point.p95


def test_a_late_result_before_the_first_seal_leaves_the_seal_alone():
    service, probe = _sealed_history()
    hour_seal = LatencySeal.objects.get(step="hour")
    LatencySeal.objects.filter(step="hour").update(sealed_from=LATE_HOUR + timedelta(hours=2))

    _record_late(probe)

    # that hour was never sealed: it is merged from the rollups, so nothing is stale
    assert _seal("hour") == hour_seal.sealed_until
    assert _charted_p95(service, "7d", LATE_HOUR) == pytest.approx(900, rel=0.02)


def test_results_recorded_in_time_do_not_touch_the_seal():
    service = ServiceFactory()
    probe = make_probe(service)
    now = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        probe_results_record(outcomes=[outcome(probe, at=now - timedelta(seconds=5))])

    assert not [q for q in queries.captured_queries if "latencyseal" in q["sql"].lower()]


def test_a_sealing_pass_does_not_skip_over_points_reopened_while_it_ran():
    # given a pass that read the hour seal at 10:00 before a late batch reopened it at 03:00
    _service, probe = _sealed_history()
    _record_late(probe)

    # when that pass seals the next hour
    _seal_chunk(
        "hour", ProbeRollupHour, END.replace(minute=0), END.replace(minute=0) + timedelta(hours=1)
    )

    # then the seal stays at 03:00: the reopened hours are recomputed by the next pass
    assert _seal("hour") == LATE_HOUR
