"""Day rollups: days of the configured time zone, each the exact merge of its hour rollups, read
by the charts of ranges longer than 7 days."""

from __future__ import annotations

import io
import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

from health import sketch
from health.models import LatencyPoint, ProbeRollupDay, ProbeRollupHour
from health.ranges import RANGES, local_day_start
from health.selectors import latency_series, latency_window
from health.selectors.latency import latency_p95_by_service
from health.services import probe_results_record
from health.services.rollups import day_rollups_refresh
from health.tasks import latency_points_seal_task
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import make_probe, outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("berlin")]

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin():
    with override_settings(TIME_ZONE="Europe/Berlin"):
        yield


def _record_every(probe, *, first: datetime, last: datetime, step: timedelta, seed: int = 3):
    """Results every ``step`` from first to last (log-normal latencies, one failure in 50);
    returns (checked_at, latency) of those with a latency."""
    rng = random.Random(seed)
    outcomes, raw = [], []
    at = first
    n = 0
    while at <= last:
        latency = rng.lognormvariate(3.5, 0.8)
        ok = n % 50 != 49
        outcomes.append(outcome(probe, at=at, latency_ms=latency, ok=ok))
        raw.append((at, latency))
        at += step
        n += 1
    for i in range(0, len(outcomes), 200):
        probe_results_record(outcomes=outcomes[i : i + 200], incidents=False)
    return raw


def _hour_merge_per_local_day(probe) -> dict[datetime, dict]:
    merged: dict[datetime, dict] = defaultdict(
        lambda: {"count": 0, "ok_count": 0, "sketch": {}, "min": None, "max": None}
    )
    for hour in ProbeRollupHour.objects.filter(probe=probe):
        day = merged[local_day_start(hour.bucket_start)]
        day["count"] += hour.count
        day["ok_count"] += hour.ok_count
        day["sketch"] = sketch.merge(day["sketch"], hour.sketch)
        day["min"] = hour.latency_min if day["min"] is None else min(day["min"], hour.latency_min)
        day["max"] = hour.latency_max if day["max"] is None else max(day["max"], hour.latency_max)
    return dict(merged)


def _days(probe) -> dict[datetime, dict]:
    return {
        row.bucket_start: {
            "count": row.count,
            "ok_count": row.ok_count,
            "sketch": row.sketch,
            "min": row.latency_min,
            "max": row.latency_max,
        }
        for row in ProbeRollupDay.objects.filter(probe=probe)
    }


def test_a_day_rollup_is_the_exact_merge_of_its_hour_rollups():
    # given results every 7 minutes over four Berlin days, recorded in batches
    probe = make_probe(ServiceFactory())
    _record_every(
        probe,
        first=datetime(2026, 6, 1, 20, 3, tzinfo=UTC),
        last=datetime(2026, 6, 5, 9, 0, tzinfo=UTC),
        step=timedelta(minutes=7),
    )

    # then each day rollup holds exactly what its day's hour rollups hold, bin for bin
    days = _days(probe)
    assert days == _hour_merge_per_local_day(probe)
    # and the days start at Berlin midnight (22:00 UTC in summer)
    assert sorted(days) == [
        datetime(2026, 5, 31, 22, tzinfo=UTC) + timedelta(days=n) for n in range(5)
    ]


@pytest.mark.parametrize(
    ("change", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_a_daylight_saving_day_rollup_holds_its_23_or_25_hours(change, hours):
    # given a result every 30 minutes around a daylight-saving change in Berlin
    probe = make_probe(ServiceFactory())
    midnight = datetime.combine(change, datetime.min.time(), tzinfo=BERLIN)
    _record_every(
        probe,
        first=(midnight - timedelta(days=1)).astimezone(UTC),
        last=(midnight + timedelta(days=2)).astimezone(UTC) - timedelta(minutes=1),
        step=timedelta(minutes=30),
    )

    # then the day of the change starts at its midnight and holds two results per real hour
    day = ProbeRollupDay.objects.get(probe=probe, bucket_start=midnight.astimezone(UTC))
    assert day.count == 2 * hours
    next_day = local_day_start(midnight.astimezone(UTC) + timedelta(hours=hours))
    assert next_day == (midnight + timedelta(days=1)).astimezone(UTC)
    assert ProbeRollupDay.objects.get(probe=probe, bucket_start=next_day).count == 48
    assert _days(probe) == _hour_merge_per_local_day(probe)


def test_refreshing_day_rollups_from_hours_gives_the_rows_recording_wrote():
    # given two probes, one of them on two revisions, recorded over three days
    service = ServiceFactory()
    old, new = RevisionFactory(service=service), RevisionFactory(service=service)
    probes = [make_probe(service), make_probe(service)]
    for n, probe in enumerate(probes):
        _record_every(
            probe,
            first=datetime(2026, 3, 28, 0, 0, tzinfo=UTC),
            last=datetime(2026, 3, 30, 12, 0, tzinfo=UTC),
            step=timedelta(minutes=11),
            seed=n,
        )
    ProbeRollupHour.objects.filter(
        probe=probes[0], bucket_start__gte=datetime(2026, 3, 29, 6, tzinfo=UTC)
    ).update(revision=new)
    ProbeRollupHour.objects.filter(probe=probes[0], revision__isnull=True).update(revision=old)
    stale = {p.pk: _days(p) for p in probes}
    assert {r.revision_id for r in ProbeRollupDay.objects.all()} == {None}

    # when the days from 29 March on are recomputed for the first probe only
    day_rollups_refresh(since=datetime(2026, 3, 29, 12, tzinfo=UTC), probe_ids=[probes[0].pk])

    # then its days from that Berlin day on are split per revision, merged from their hours
    rows = ProbeRollupDay.objects.filter(probe=probes[0])
    utc = [datetime(2026, 3, d, h, tzinfo=UTC) for d, h in ((27, 23), (28, 23), (29, 22))]
    assert {(r.bucket_start, r.revision_id) for r in rows} == {
        (utc[0], None),  # 28 March in Berlin, before ``since``: left as recording wrote it
        (utc[1], old.pk),  # 29 March (23 hours): deployed at 06:00 UTC
        (utc[1], new.pk),
        (utc[2], new.pk),
    }
    for row in rows.filter(bucket_start__gte=local_day_start(datetime(2026, 3, 29, tzinfo=UTC))):
        hours = ProbeRollupHour.objects.filter(
            probe=probes[0],
            revision=row.revision,
            bucket_start__gte=row.bucket_start,
            bucket_start__lt=local_day_start(row.bucket_start + timedelta(hours=25)),
        )
        assert row.sketch == sketch.merge(*(h.sketch for h in hours))
        assert row.count == sum(h.count for h in hours)
    # and the other probe's days are untouched
    assert _days(probes[1]) == stale[probes[1].pk]


def test_the_command_recomputes_every_day_rollup_after_a_time_zone_change():
    probe = make_probe(ServiceFactory())
    _record_every(
        probe,
        first=datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
        last=datetime(2026, 6, 3, 0, 0, tzinfo=UTC),
        step=timedelta(minutes=13),
    )
    with override_settings(TIME_ZONE="America/New_York"):
        out = io.StringIO()
        call_command("rebuild_latency_sketches", "--day-rollups", stdout=out)

        assert "ProbeRollupDay: 3 recomputed from the hour rollups" in out.getvalue()

        assert sorted({r.bucket_start for r in ProbeRollupDay.objects.all()}) == [
            datetime(2026, 5, 31, 4, tzinfo=UTC),
            datetime(2026, 6, 1, 4, tzinfo=UTC),
            datetime(2026, 6, 2, 4, tzinfo=UTC),
        ]
        assert _days(probe) == _hour_merge_per_local_day(probe)


def test_long_range_charts_read_one_point_per_local_day_within_the_sketch_error(
    django_assert_max_num_queries,
):
    # given 12 days of results every 20 minutes on two revisions
    service = ServiceFactory()
    old, new = RevisionFactory(service=service), RevisionFactory(service=service)
    probe = make_probe(service)
    end = datetime(2026, 6, 13, 10, 0, tzinfo=UTC)
    raw = _record_every(probe, first=end - timedelta(days=12), last=end, step=timedelta(minutes=5))
    ProbeRollupDay.objects.filter(bucket_start__lt=end - timedelta(days=6)).update(revision=old)
    ProbeRollupDay.objects.filter(revision__isnull=True).update(revision=new)

    # when the 30-day chart and the overview read them
    with django_assert_max_num_queries(4):
        series = latency_series(service_id=service.pk, time_range=RANGES["30d"], end=end)
    with django_assert_max_num_queries(3):
        cards = latency_p95_by_service(service_ids=[service.pk], time_range=RANGES["30d"], end=end)

    # then there is one point per Berlin day, on the revision of that day
    points = [point for s in series for point in s.points]
    assert [s.revision_id for s in series] == [old.pk, new.pk]
    assert [p.time for p in points] == sorted(_days(probe))
    # each point's p95 is numpy's p95 of that day's raw latencies within the 1 % of the sketch
    by_day: dict[datetime, list[float]] = defaultdict(list)
    for at, latency in raw:
        by_day[local_day_start(at)].append(latency)
    for point in points:
        true = float(np.percentile(by_day[point.time], 95))
        assert abs(point.p95 - true) / true <= sketch.RELATIVE_ACCURACY
        assert point.error == sketch.RELATIVE_ACCURACY
    # and the overview's sparkline shows the same points
    assert cards[service.pk] == [(p.time, p.p95) for p in points]
    # and the whole window's p95 is the same read from hours as from days
    whole = latency_window(start=end - timedelta(days=30), end=end, service_ids=[service.pk])
    days = sketch.merge(*(row.sketch for row in ProbeRollupDay.objects.all()))
    assert sketch.percentile(days, 0.95) == whole.percentile(0.95)


def test_a_ninety_day_overview_has_ninety_points_not_two_thousand():
    # given a probe with a day rollup on each of the last 100 days
    probe = make_probe(ServiceFactory())
    end = datetime(2026, 6, 13, 10, 0, tzinfo=UTC)
    ProbeRollupDay.objects.bulk_create(
        ProbeRollupDay(
            probe=probe,
            bucket_start=local_day_start(end - timedelta(days=d)),
            count=1,
            ok_count=1,
            sketch={sketch.key_of(10.0 + d): 1},
        )
        for d in range(100)
    )

    points = latency_p95_by_service(
        service_ids=[probe.service_id], time_range=RANGES["90d"], end=end
    )[probe.service_id]

    # then the 91 Berlin days touching the range, oldest first, each with its own p95
    assert len(points) == 91
    assert points[0][0] == local_day_start(end - timedelta(days=90))
    for (_, p95), d in zip(points, range(90, -1, -1), strict=True):
        assert abs(p95 - (10.0 + d)) / (10.0 + d) <= sketch.RELATIVE_ACCURACY


@pytest.mark.django_db(transaction=True)
def test_the_migration_builds_day_rollups_from_the_hour_rollups_kept():
    # given the schema before day rollups, with hour rollups across a Berlin midnight
    executor = MigrationExecutor(connection)
    executor.migrate([("health", "0006_probe_locations")])
    try:
        probe = make_probe(ServiceFactory())
        first = datetime(2026, 6, 1, 20, tzinfo=UTC)  # 22:00 in Berlin
        with connection.cursor() as cursor:
            for h in range(5):
                cursor.execute(
                    "INSERT INTO health_proberolluphour (probe_id, bucket_start, count, ok_count, "
                    "latency_sum, latency_min, latency_max, sketch, latency_error) "
                    "VALUES (%s, %s, 2, 1, 30, 10, 20, %s, 0.01)",
                    [
                        probe.pk,
                        connection.ops.adapt_datetimefield_value(first + timedelta(hours=h)),
                        json.dumps({"231": 1, str(240 + h): 1}),
                    ],
                )

        # when the migration to day rollups runs
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

        # then each Berlin day holds its hours, bin for bin
        days = _days(probe)
        assert days == _hour_merge_per_local_day(probe)
        assert {start: day["count"] for start, day in days.items()} == {
            datetime(2026, 5, 31, 22, tzinfo=UTC): 4,
            datetime(2026, 6, 1, 22, tzinfo=UTC): 6,
        }
        assert days[datetime(2026, 6, 1, 22, tzinfo=UTC)]["sketch"] == {
            "231": 3, "242": 1, "243": 1, "244": 1,
        }  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_beat_task_seals_the_closed_hours_and_days():
    probe = make_probe(ServiceFactory())
    _record_every(
        probe,
        first=timezone.now() - timedelta(hours=30),
        last=timezone.now() - timedelta(hours=2),
        step=timedelta(minutes=30),
    )

    written = latency_points_seal_task()

    assert written["hour"] == LatencyPoint.objects.filter(step="hour").count() >= 28
    assert written["day"] == LatencyPoint.objects.filter(step="day").count() >= 1
