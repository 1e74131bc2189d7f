"""Minute, hour and day rollups, maintained as results arrive.

Each (probe, revision, bucket) row holds counts, latency sum/min/max and a latency sketch
(``health.sketch``: sparse bins, key → count, with 1 % relative error). Latency is counted for
results that got an HTTP response; a timeout or a refused connection counts against uptime but
has no latency worth charting. Day rollups are days of the configured time zone
(``health.ranges.local_day_start``); ``day_rollups_refresh`` recomputes them from the hour
rollups (after a rebuild of old sketches, or a change of ``STAGELOOP_TIME_ZONE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from health import sketch
from health.models import ProbeResult, ProbeRollupDay, ProbeRollupHour, ProbeRollupMinute
from health.ranges import local_day_start

_PG_UPSERT = """
INSERT INTO {table} AS t
    (probe_id, revision_id, bucket_start, count, ok_count, maintenance_count,
     latency_sum, latency_min, latency_max, sketch, latency_error)
SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::int[], %s::int[],
                     %s::int[], %s::float8[], %s::float8[], %s::float8[], %s::text[]::jsonb[],
                     %s::float8[])
ON CONFLICT (probe_id, (COALESCE(revision_id, 0)), bucket_start) DO UPDATE SET
    count = t.count + EXCLUDED.count,
    ok_count = t.ok_count + EXCLUDED.ok_count,
    maintenance_count = t.maintenance_count + EXCLUDED.maintenance_count,
    latency_sum = t.latency_sum + EXCLUDED.latency_sum,
    latency_min = LEAST(t.latency_min, EXCLUDED.latency_min),
    latency_max = GREATEST(t.latency_max, EXCLUDED.latency_max),
    -- Only the batch's few bins are visited; the row's other bins are kept as they are by ||.
    sketch = t.sketch || COALESCE((
        SELECT jsonb_object_agg(new.k, new.n::bigint + COALESCE((t.sketch ->> new.k)::bigint, 0))
        FROM jsonb_each_text(EXCLUDED.sketch) AS new(k, n)
    ), '{{}}'::jsonb)
"""


@dataclass
class Bucket:
    """The rollup of the results of one probe in one time bucket, before it is stored."""

    probe_id: int
    bucket_start: datetime
    revision_id: int | None = None
    count: int = 0
    ok_count: int = 0
    maintenance_count: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    sketch: sketch.Sketch = field(default_factory=dict)

    def add(self, result: ProbeResult) -> None:
        if result.in_maintenance:
            # Counted apart, so uptime, SLOs and latency figures leave maintenance out.
            self.maintenance_count += 1
            return
        self.count += 1
        self.ok_count += int(result.ok)
        if result.status_code is None:
            return
        latency = result.latency_ms
        self.latency_sum += latency
        self.latency_min = latency if self.latency_min is None else min(self.latency_min, latency)
        self.latency_max = latency if self.latency_max is None else max(self.latency_max, latency)
        sketch.add(self.sketch, latency)


def _buckets(results: Iterable[ProbeResult], truncate) -> list[Bucket]:
    buckets: dict[tuple[int, int, datetime], Bucket] = {}
    for result in results:
        start = truncate(result.checked_at)
        key = (result.probe_id, result.revision_id or 0, start)
        if key not in buckets:
            buckets[key] = Bucket(
                probe_id=result.probe_id, revision_id=result.revision_id, bucket_start=start
            )
        buckets[key].add(result)
    # A fixed order keeps two concurrent upserts from locking rows in opposite orders.
    return [buckets[key] for key in sorted(buckets)]


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def rollups_add(results: list[ProbeResult]) -> None:
    """Add ``results`` to their minute, hour and day rollups; call inside the recording
    transaction (so a day rollup always equals the merge of its results' hour rollups)."""
    for model, truncate in (
        (ProbeRollupMinute, minute_of),
        (ProbeRollupHour, hour_of),
        (ProbeRollupDay, local_day_start),
    ):
        buckets = _buckets(results, truncate)
        if not buckets:
            continue
        if connection.vendor == "postgresql":
            _upsert_postgresql(model, buckets)
        else:
            _upsert_portable(model, buckets)


def _upsert_postgresql(model, buckets: list[Bucket]) -> None:
    # One statement: the row lock ON CONFLICT takes makes each merge atomic against other workers.
    # Columns go as arrays (unnest): one short statement text whatever the batch size, which the
    # driver parses once instead of scanning thousands of placeholders per batch.
    columns: list[list[int | float | str | datetime | None]] = [
        [b.probe_id for b in buckets],
        [b.revision_id for b in buckets],
        [b.bucket_start for b in buckets],
        [b.count for b in buckets],
        [b.ok_count for b in buckets],
        [b.maintenance_count for b in buckets],
        [b.latency_sum for b in buckets],
        [b.latency_min for b in buckets],
        [b.latency_max for b in buckets],
        [json.dumps(b.sketch) for b in buckets],
        [sketch.RELATIVE_ACCURACY] * len(buckets),
    ]
    sql = _PG_UPSERT.format(table=model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, columns)


def _upsert_portable(model, buckets: list[Bucket]) -> None:
    # SQLite holds the database write lock for the whole (IMMEDIATE) transaction, so reading the
    # touched rows, merging them here and writing them back cannot interleave with another writer.
    model.objects.bulk_create(
        [
            model(probe_id=b.probe_id, revision_id=b.revision_id, bucket_start=b.bucket_start)
            for b in buckets
        ],
        ignore_conflicts=True,
    )
    probe_ids = {b.probe_id for b in buckets}
    starts = {b.bucket_start for b in buckets}
    rows = {
        (row.probe_id, row.revision_id, row.bucket_start): row
        for row in model.objects.select_for_update().filter(
            probe_id__in=probe_ids, bucket_start__in=starts
        )
    }
    changed = []
    for b in buckets:
        row = rows[(b.probe_id, b.revision_id, b.bucket_start)]
        row.count += b.count
        row.ok_count += b.ok_count
        row.maintenance_count += b.maintenance_count
        row.latency_sum += b.latency_sum
        row.latency_min = _least(row.latency_min, b.latency_min)
        row.latency_max = _greatest(row.latency_max, b.latency_max)
        row.sketch = sketch.merge(row.sketch or {}, b.sketch)
        changed.append(row)
    model.objects.bulk_update(
        changed,
        [
            "count",
            "ok_count",
            "maintenance_count",
            "latency_sum",
            "latency_min",
            "latency_max",
            "sketch",
        ],
    )


def _least(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True)
class RebuildCounts:
    """What ``rollups_rebuild`` did per rollup table."""

    rebuilt: int
    kept: int  # raw results no longer complete for the bucket: the old bound stays, labelled


def rollups_rebuild(
    *, now: datetime, probe_ids: list[int] | None = None
) -> dict[str, RebuildCounts]:
    """Recompute the sketches of rollups written before sketches from their raw results.

    A rollup is rebuilt only when the raw results still kept for its bucket are all of them:
    as many results as its ``count`` and as many latencies as its sketch holds (retention
    deletes results after 14 days, so older rollups, and the one the retention cut through,
    keep their converted histogram and its 1/3 bound). The bucket in progress is left alone.
    Each probe's day is one short transaction that locks its rollups, so a worker adding
    results meanwhile waits for it and then adds to the rebuilt sketch.
    """
    done: dict[str, RebuildCounts] = {}
    for model, truncate, width in (
        (ProbeRollupMinute, minute_of, timedelta(minutes=1)),
        (ProbeRollupHour, hour_of, timedelta(hours=1)),
    ):
        legacy = model.objects.filter(
            latency_error__gt=sketch.RELATIVE_ACCURACY, bucket_start__lt=truncate(now)
        )
        if probe_ids is not None:
            legacy = legacy.filter(probe_id__in=probe_ids)
        rebuilt = kept = 0
        days = (
            legacy.annotate(day=TruncDate("bucket_start", tzinfo=UTC))
            .values_list("probe_id", "day")
            .distinct()
            .order_by("probe_id", "day")
        )
        for probe_id, day in list(days):
            start = datetime.combine(day, time.min, tzinfo=UTC)
            r, k = _rebuild_day(model, truncate, width, legacy, probe_id, start)
            rebuilt += r
            kept += k
        done[model.__name__] = RebuildCounts(rebuilt=rebuilt, kept=kept)
    return done


def _rebuild_day(model, truncate, width, legacy, probe_id: int, start: datetime) -> tuple[int, int]:
    end = start + timedelta(days=1)
    with transaction.atomic():
        rows = list(
            legacy.select_for_update()
            .filter(probe_id=probe_id, bucket_start__gte=start, bucket_start__lt=end)
            .order_by("bucket_start", "revision_id")
        )
        if not rows:
            return 0, 0
        results = ProbeResult.objects.filter(
            probe_id=probe_id,
            checked_at__gte=rows[0].bucket_start,
            checked_at__lt=rows[-1].bucket_start + width,
        ).only(
            "probe_id",
            "revision_id",
            "checked_at",
            "ok",
            "status_code",
            "latency_ms",
            "in_maintenance",
        )
        fresh = {
            (b.revision_id or 0, b.bucket_start): b for b in _buckets(results.iterator(), truncate)
        }
        changed = []
        for row in rows:
            bucket = fresh.get((row.revision_id or 0, row.bucket_start))
            if (
                bucket is None
                or bucket.count != row.count
                or sketch.total(bucket.sketch) != sketch.total(row.sketch or {})
            ):
                continue
            row.sketch = bucket.sketch
            row.latency_error = sketch.RELATIVE_ACCURACY
            changed.append(row)
        model.objects.bulk_update(changed, ["sketch", "latency_error"])
        return len(changed), len(rows) - len(changed)


_PG_DAYS = """
WITH totals AS (
    SELECT h.probe_id, h.revision_id, {day} AS day, SUM(h.count) AS count,
        SUM(h.ok_count) AS ok_count, SUM(h.maintenance_count) AS maintenance_count,
        SUM(h.latency_sum) AS latency_sum,
        MIN(h.latency_min) AS latency_min, MAX(h.latency_max) AS latency_max,
        MAX(h.latency_error) AS latency_error
    FROM {hour} h WHERE {where}
    GROUP BY 1, 2, 3
), bins AS (
    SELECT b.probe_id, b.revision, b.day, jsonb_object_agg(b.k, b.n) AS sketch
    FROM (
        SELECT h.probe_id, COALESCE(h.revision_id, 0) AS revision, {day} AS day, e.k,
            SUM(e.n::bigint) AS n
        FROM {hour} h CROSS JOIN LATERAL jsonb_each_text(h.sketch) AS e(k, n)
        WHERE {where}
        GROUP BY 1, 2, 3, 4
    ) b
    GROUP BY 1, 2, 3
)
INSERT INTO {table} (probe_id, revision_id, bucket_start, count, ok_count, maintenance_count,
    latency_sum, latency_min, latency_max, sketch, latency_error)
SELECT t.probe_id, t.revision_id, t.day, t.count, t.ok_count, t.maintenance_count,
    t.latency_sum, t.latency_min, t.latency_max, COALESCE(b.sketch, '{{}}'::jsonb), t.latency_error
FROM totals t
LEFT JOIN bins b ON b.probe_id = t.probe_id AND b.revision = COALESCE(t.revision_id, 0)
    AND b.day = t.day
"""


def day_rollups_refresh(*, since: datetime | None, probe_ids: list[int] | None = None) -> int:
    """Recompute the day rollups of the local days from the one holding ``since`` (all days
    when None) as the merge of their hour rollups; return how many day rollups there now are.

    Each hour counts in the local day its start falls in (in a zone whose offset is not a whole
    number of hours, that shifts the edge of a recomputed day by the offset's fraction). One
    transaction; on PostgreSQL it locks the day table against writers, so results recorded
    meanwhile wait and are then added to the recomputed days.
    """
    start = local_day_start(since) if since is not None else None
    days = ProbeRollupDay.objects.all()
    hours = ProbeRollupHour.objects.all()
    if start is not None:
        days = days.filter(bucket_start__gte=start)
        hours = hours.filter(bucket_start__gte=start)
    if probe_ids is not None:
        days = days.filter(probe_id__in=probe_ids)
        hours = hours.filter(probe_id__in=probe_ids)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = ProbeRollupDay._meta.db_table
                cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
                days.delete()
                return _refresh_postgresql(start, probe_ids)
        days.delete()
        return _refresh_portable(hours)


def _refresh_postgresql(start: datetime | None, probe_ids: list[int] | None) -> int:
    where: list[str] = ["TRUE"]
    params: list[datetime | int] = []
    if start is not None:
        where.append("h.bucket_start >= %s")
        params.append(start)
    if probe_ids is not None:
        where.append(f"h.probe_id IN ({', '.join(['%s'] * len(probe_ids))})")
        params += probe_ids
    zone = timezone.get_current_timezone_name()
    sql = _PG_DAYS.format(
        day="(date_trunc('day', h.bucket_start AT TIME ZONE %s) AT TIME ZONE %s)",
        hour=ProbeRollupHour._meta.db_table,
        table=ProbeRollupDay._meta.db_table,
        where=" AND ".join(where),
    )
    with connection.cursor() as cursor:
        # {day} and {where} appear in this order twice: zone, zone, filters, zone, zone, filters.
        cursor.execute(sql, [zone, zone, *params, zone, zone, *params])
        return cursor.rowcount


def _refresh_portable(hours) -> int:
    merged: dict[tuple[int, int, datetime], ProbeRollupDay] = {}
    for hour in hours.order_by("probe_id", "bucket_start").iterator():
        key = (hour.probe_id, hour.revision_id or 0, local_day_start(hour.bucket_start))
        day = merged.get(key)
        if day is None:
            day = merged[key] = ProbeRollupDay(
                probe_id=hour.probe_id,
                revision_id=hour.revision_id,
                bucket_start=key[2],
                latency_error=hour.latency_error,
            )
        day.count += hour.count
        day.ok_count += hour.ok_count
        day.maintenance_count += hour.maintenance_count
        day.latency_sum += hour.latency_sum
        day.latency_min = _least(day.latency_min, hour.latency_min)
        day.latency_max = _greatest(day.latency_max, hour.latency_max)
        day.sketch = sketch.merge(day.sketch, hour.sketch or {})
        day.latency_error = max(day.latency_error, hour.latency_error)
    ProbeRollupDay.objects.bulk_create(merged.values(), batch_size=500)
    return len(merged)
