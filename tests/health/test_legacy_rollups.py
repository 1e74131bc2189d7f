"""Rollups written before latency sketches: converted with their old bound, rebuilt from raw
results where every result of the bucket is still kept, and labelled on the health page."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from health import sketch
from health.models import ProbeResult, ProbeRollupHour, ProbeRollupMinute
from health.ranges import RANGES
from health.selectors import latency_series, latency_window
from health.services import probe_results_record
from health.services.rollups import rollups_rebuild
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe, outcome

# The bounds of the old fixed-bucket histograms (1 ms .. 60 s, ratio ≤ 4/3, then "more").
_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5)
OLD_BOUNDS = (
    *(step * 10**exp for exp in range(4) for step in _STEPS),
    *(10_000.0, 12_500.0, 15_000.0, 20_000.0, 25_000.0, 30_000.0, 40_000.0, 50_000.0, 60_000.0),
    math.inf,
)


def old_histogram(latencies: list[float]) -> list[int]:
    hist = [0] * len(OLD_BOUNDS)
    for value in latencies:
        hist[next(i for i, bound in enumerate(OLD_BOUNDS) if value <= bound)] += 1
    return hist


def legacy_sketch(latencies: list[float]) -> dict[str, int]:
    """What the migration makes of the old histogram of ``latencies``: each bucket's count at
    the bucket's geometric middle."""
    bins: dict[str, int] = {}
    for index, count in enumerate(old_histogram(latencies)):
        if not count:
            continue
        low = 0.0 if index == 0 else OLD_BOUNDS[index - 1]
        high = OLD_BOUNDS[index]
        middle = 0.5 if index == 0 else low if math.isinf(high) else math.sqrt(low * high)
        sketch.add(bins, middle, count)
    return bins


def make_legacy(model, **filters) -> None:
    """Turn stored rollups back into what the migration left of them."""
    for row in model.objects.filter(**filters):
        raw = ProbeResult.objects.filter(
            probe_id=row.probe_id,
            checked_at__gte=row.bucket_start,
            checked_at__lt=row.bucket_start
            + (timedelta(minutes=1) if model is ProbeRollupMinute else timedelta(hours=1)),
            status_code__isnull=False,
        ).values_list("latency_ms", flat=True)
        row.sketch = legacy_sketch(list(raw))
        row.latency_error = sketch.LEGACY_RELATIVE_ERROR
        row.save(update_fields=["sketch", "latency_error"])


def record_hours(probe, start: datetime, hours: int) -> None:
    """A result every 30 s for ``hours`` hours, latencies spread 10-400 ms."""
    outcomes = [
        outcome(probe, at=start + timedelta(seconds=30 * n), latency_ms=10 + (n * 37) % 390)
        for n in range(hours * 120)
    ]
    for offset in range(0, len(outcomes), 500):
        probe_results_record(outcomes=outcomes[offset : offset + 500])


@pytest.mark.django_db
def test_the_rebuild_recomputes_legacy_rollups_whose_raw_results_are_all_kept():
    # given three hours of results whose rollups are in their converted, legacy form
    probe = make_probe(ServiceFactory())
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    record_hours(probe, start, 3)
    fresh = {
        (m.__name__, r.bucket_start): r.sketch
        for m in (ProbeRollupMinute, ProbeRollupHour)
        for r in m.objects.all()
    }
    make_legacy(ProbeRollupMinute)
    make_legacy(ProbeRollupHour)
    # ... and the first hour's raw results partly deleted by the retention
    ProbeResult.objects.filter(checked_at__lt=start + timedelta(minutes=30)).delete()

    # when the rebuild runs after those hours
    done = rollups_rebuild(now=start + timedelta(hours=5))

    # then every rollup whose results are all kept reads as it did before, within 1 %
    assert (done["ProbeRollupMinute"].rebuilt, done["ProbeRollupMinute"].kept) == (150, 30)
    assert (done["ProbeRollupHour"].rebuilt, done["ProbeRollupHour"].kept) == (2, 1)
    for model in (ProbeRollupMinute, ProbeRollupHour):
        for row in model.objects.filter(bucket_start__gte=start + timedelta(hours=1)):
            assert row.sketch == fresh[(model.__name__, row.bucket_start)]
            assert row.latency_error == sketch.RELATIVE_ACCURACY
    # and the ones the retention cut through keep their old sketch and bound
    first_hour = ProbeRollupHour.objects.get(bucket_start=start)
    assert first_hour.latency_error == sketch.LEGACY_RELATIVE_ERROR
    assert (
        ProbeRollupMinute.objects.filter(
            latency_error=sketch.LEGACY_RELATIVE_ERROR,
            bucket_start__lt=start + timedelta(minutes=30),
        ).count()
        == 30
    )
    # and a second run has nothing left that it can rebuild
    again = rollups_rebuild(now=start + timedelta(hours=5))
    assert (again["ProbeRollupHour"].rebuilt, again["ProbeRollupMinute"].rebuilt) == (0, 0)


@pytest.mark.django_db
def test_the_rebuild_leaves_the_bucket_in_progress_and_results_added_since():
    # given a legacy hour still in progress that has got new results since the migration
    probe = make_probe(ServiceFactory())
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    record_hours(probe, start, 1)
    make_legacy(ProbeRollupHour)
    make_legacy(ProbeRollupMinute)
    probe_results_record(outcomes=[outcome(probe, at=start + timedelta(minutes=59), latency_ms=7)])
    hour = ProbeRollupHour.objects.get()
    assert hour.latency_error == sketch.LEGACY_RELATIVE_ERROR  # a new result does not hide it

    # when the rebuild runs inside that hour
    rollups_rebuild(now=start + timedelta(minutes=59, seconds=30))

    # then the hour is left for later; the finished minutes are rebuilt, the new result included
    assert ProbeRollupHour.objects.get().latency_error == sketch.LEGACY_RELATIVE_ERROR
    last = ProbeRollupMinute.objects.get(bucket_start=start + timedelta(minutes=59))
    assert last.latency_error == sketch.LEGACY_RELATIVE_ERROR  # the minute in progress
    rollups_rebuild(now=start + timedelta(hours=1, minutes=1))
    hour = ProbeRollupHour.objects.get()
    assert hour.latency_error == sketch.RELATIVE_ACCURACY
    assert sketch.total(hour.sketch) == hour.count == 121


@pytest.mark.django_db
def test_the_command_reports_what_it_did_and_refuses_an_unknown_probe():
    probe = make_probe(ServiceFactory())
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    record_hours(probe, start, 1)
    make_legacy(ProbeRollupHour)

    with pytest.raises(CommandError, match=r"No probe has id 999999; nothing was rebuilt\."):
        call_command("rebuild_latency_sketches", "--probe", "999999")
    assert ProbeRollupHour.objects.get().latency_error == sketch.LEGACY_RELATIVE_ERROR

    out = StringIO()
    call_command("rebuild_latency_sketches", "--probe", str(probe.pk), stdout=out)
    assert "ProbeRollupHour: 1 rebuilt from raw results, 0 kept" in out.getvalue()
    assert ProbeRollupHour.objects.get().latency_error == sketch.RELATIVE_ACCURACY


@pytest.mark.django_db
def test_a_window_reaching_back_before_sketches_carries_the_old_bound():
    probe = make_probe(ServiceFactory())
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    record_hours(probe, start, 2)
    make_legacy(ProbeRollupHour, bucket_start=start)

    both = latency_window(start=start, end=start + timedelta(hours=2))
    recent = latency_window(start=start + timedelta(hours=1), end=start + timedelta(hours=2))

    assert both.error == sketch.LEGACY_RELATIVE_ERROR and both.samples == 240
    assert recent.error == sketch.RELATIVE_ACCURACY and recent.samples == 120
    points = latency_series(
        service_id=probe.service_id, time_range=RANGES["7d"], end=start + timedelta(hours=2)
    )[0].points
    assert [p.error for p in points] == [sketch.LEGACY_RELATIVE_ERROR, sketch.RELATIVE_ACCURACY]


@pytest.mark.django_db
def test_the_health_page_labels_older_points_with_their_real_error(viewer, login):
    # given a service whose first hours were rolled up before sketches, the last ones after
    probe = make_probe(ServiceFactory(name="shop"))
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    record_hours(probe, now - timedelta(hours=4), 4)
    make_legacy(ProbeRollupHour, bucket_start__lt=now - timedelta(hours=2))
    client = login(viewer)
    url = reverse("service-health", args=["shop"])

    page = client.get(url, {"range": "7d"}).content.decode()

    legacy_until = timezone.localtime(now - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    assert (
        f"Points up to {legacy_until} come from rollups written before latency sketches: "
        "within <strong>± 33 %</strong> of the true value; later ones within "
        "<strong>± 1 %</strong>." in page
    )
    # and a range with only recent rollups says the sketch's bound alone
    page = client.get(url, {"range": "1h"}).content.decode()
    assert (
        "Percentiles come from latency sketches: within <strong>± 1 %</strong> of the true value."
        in page
    )
    assert "± 33 %" not in page
    # and once every point is old, the page says so
    make_legacy(ProbeRollupHour)
    page = client.get(url, {"range": "7d"}).content.decode()
    assert (
        "Percentiles in this range come from rollups written before latency sketches: within "
        "<strong>± 33 %</strong> of the true value." in page
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_old_histograms_into_sketches_with_their_bound():
    # given the schema before sketches, with a minute and an hour histogram stored (the probe is
    # made first, by today's model: later migrations add probe columns the old schema lacks)
    probe = make_probe(ServiceFactory())
    executor = MigrationExecutor(connection)
    executor.migrate([("health", "0003_rollup_probe_time_index")])
    try:
        latencies = [0.4, 3.0, 12.0, 12.5, 90.0, 90.0, 1800.0, 75_000.0]
        hist = old_histogram(latencies)
        at = connection.ops.adapt_datetimefield_value(datetime(2026, 3, 2, 9, tzinfo=UTC))
        with connection.cursor() as cursor:
            for table in ("health_proberollupminute", "health_proberolluphour"):
                cursor.execute(
                    f"INSERT INTO {table} (probe_id, bucket_start, count, ok_count, "  # noqa: S608
                    "latency_sum, histogram) VALUES (%s, %s, 8, 8, 0, %s)",
                    [probe.pk, at, json.dumps(hist)],
                )

        # when the migration to sketches runs
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

        # then each rollup holds the bins of its buckets' middles, and the old bound
        for model in (ProbeRollupMinute, ProbeRollupHour):
            row = model.objects.get()
            assert row.sketch == legacy_sketch(latencies)
            assert row.latency_error == pytest.approx(1 / 3)
            assert sketch.total(row.sketch) == 8
            # and its median is within the old bound of the true one (51.25 ms)
            assert abs(sketch.percentile(row.sketch, 0.5) - 51.25) <= 51.25 / 3
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
