"""Latency percentiles over time, per revision, from rollups only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.db import connection

from health import sketch as sketches
from health.models import LatencyPoint as StoredPoint
from health.models import LatencySeal, ProbeRollupDay, ProbeRollupHour, ProbeRollupMinute
from health.ranges import TimeRange
from health.selectors._sql import Merged, epoch_bucket, sketches_by
from runs.models import Revision

NO_REVISION = "no revision"


@dataclass(frozen=True)
class LatencyPoint:
    time: datetime
    p50: float
    p95: float
    p99: float
    samples: int
    error: float  # relative error bound of the three percentiles (health.sketch)


@dataclass
class LatencySeries:
    """One revision's points, oldest first."""

    revision_id: int | None
    revision_name: str
    points: list[LatencyPoint]


_ROLLUPS = {"minute": ProbeRollupMinute, "hour": ProbeRollupHour, "day": ProbeRollupDay}


def rollup_table(time_range: TimeRange) -> str:
    return _ROLLUPS[time_range.rollup]._meta.db_table


def step_sql(time_range: TimeRange) -> str:
    """SQL for the epoch second that starts a rollup's chart step."""
    # A day rollup starts its own local day (23 to 25 hours long): it is one step as it is.
    return epoch_bucket(1 if time_range.rollup == "day" else time_range.step_seconds)


class _Found(NamedTuple):
    p50: float
    p95: float
    p99: float
    samples: int
    error: float


def sealed_step(time_range: TimeRange) -> str | None:
    """The step of ``LatencyPoint`` whose buckets are this range's chart steps, if any."""
    if time_range.rollup == "day":
        return StoredPoint.Step.DAY
    if time_range.rollup == "hour" and time_range.step_seconds == 3600:
        return StoredPoint.Step.HOUR
    return None


@dataclass(frozen=True)
class _Plan:
    """Where a read takes each part of its range from: sealed points in [sealed_from,
    sealed_until) (none when equal), and rollups merged from ``live_from`` on, filtered by
    ``where``/``params`` (which leave out the sealed part when it is not a prefix)."""

    step: str | None
    sealed_from: datetime
    sealed_until: datetime
    live_from: datetime
    end: datetime
    where: str
    params: list[object]


def _plan(*, service_ids: list[int], time_range: TimeRange, end: datetime) -> _Plan:
    start = time_range.first_step(end)
    step = sealed_step(time_range)
    seal = (
        LatencySeal.objects.filter(step=step).values_list("sealed_from", "sealed_until").first()
        if step is not None
        else None
    )
    sealed_from, sealed_until = seal or (end, end)
    sealed_from, sealed_until = max(sealed_from, start), min(sealed_until, end)
    where = f"p.service_id IN ({', '.join(['%s'] * len(service_ids))})"
    params: list[object] = list(service_ids)
    live_from = start
    if sealed_from < sealed_until:
        if sealed_from == start:
            live_from = sealed_until  # the usual case: only the open steps since the seal
        else:
            where += " AND NOT (r.bucket_start >= %s AND r.bucket_start < %s)"
            ops = connection.ops
            params += [
                ops.adapt_datetimefield_value(sealed_from),
                ops.adapt_datetimefield_value(sealed_until),
            ]
    else:
        sealed_from = sealed_until = start
    return _Plan(step, sealed_from, sealed_until, live_from, end, where, params)


def _live(plan: _Plan, time_range: TimeRange) -> dict[tuple[Any, ...], Merged]:
    if plan.live_from >= plan.end:
        return {}
    return sketches_by(
        table=rollup_table(time_range),
        groups=["p.service_id", step_sql(time_range), "r.revision_id"],
        where=plan.where,
        params=plan.params,
        start=plan.live_from,
        end=plan.end,
    )


def _points(
    *, service_ids: list[int], time_range: TimeRange, end: datetime
) -> dict[tuple[int, int, int | None], _Found]:
    """(service id, step start in epoch seconds, revision id) → the step's percentiles.

    Steps the seal covers come from the sealed points (one row each); the others (the open
    ones since, and any older than the first seal) are merged from the rollups. Three queries
    at most, whatever the amount of data.
    """
    plan = _plan(service_ids=service_ids, time_range=time_range, end=end)
    found = {
        (service_id, int(epoch), revision_id): _Found(*values)
        for service_id, epoch, revision_id, *values in _sealed(
            service_ids, plan, "r.p50, r.p95, r.p99, r.samples, r.error"
        )
    }
    for (service_id, epoch, revision_id), sketch in _live(plan, time_range).items():
        p50, p95, p99 = sketches.percentiles(sketch.sketch, (0.50, 0.95, 0.99))
        found[(int(service_id), int(epoch), revision_id)] = _Found(
            p50=p50 or 0.0,
            p95=p95 or 0.0,
            p99=p99 or 0.0,
            samples=sketch.samples,
            error=sketch.error,
        )
    return found


_SEALED = """
SELECT r.service_id, {epoch}, r.revision_id, {columns}
FROM {table} r
WHERE r.service_id IN ({ids}) AND r.step = %s AND r.bucket_start >= %s AND r.bucket_start < %s
"""


def _sealed(service_ids: list[int], plan: _Plan, columns: str) -> list[tuple[Any, ...]]:
    """Rows (service id, epoch, revision id, *columns) of the sealed points the plan reads."""
    if plan.sealed_from >= plan.sealed_until:
        return []
    # Raw SQL: a year of 50 services is 18,250 rows, and model rows would cost more than the query.
    sql = _SEALED.format(
        columns=columns,
        epoch=epoch_bucket(1),
        table=StoredPoint._meta.db_table,
        ids=", ".join(["%s"] * len(service_ids)),
    )
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *service_ids,
                plan.step,
                ops.adapt_datetimefield_value(plan.sealed_from),
                ops.adapt_datetimefield_value(plan.sealed_until),
            ],
        )
        return cursor.fetchall()


def latency_series(*, service_id: int, time_range: TimeRange, end: datetime) -> list[LatencySeries]:
    """p50/p95/p99 of the service's probe latencies per chart step and revision over the range.

    Sketches of every probe of the service are merged in SQL per (step, revision); percentiles
    are read from the merged sketches, each point with its error bound (1 %, or 1/3 where the
    step holds rollups from before sketches). Hour and day steps before the seal are read from
    the points ``latency_points_seal`` computed the same way.
    Minute rollups answer ranges up to 24 h, hour rollups up to 7 d, day rollups (a point per
    local day) longer ones (``health.ranges``). Series come in the order their revision first
    appears (oldest first within a step). Four queries at most, whatever the amount of data.
    """
    merged = _points(service_ids=[service_id], time_range=time_range, end=end)
    names: dict[int | None, str] = dict(
        Revision.objects.filter(
            pk__in={rev for _, _, rev in merged if rev is not None}
        ).values_list("pk", "name")
    )
    series: dict[int | None, LatencySeries] = {}
    # Two revisions first seen in the same step come oldest first (ids grow with age), so the
    # legend's order does not depend on the order the database grouped them in.
    for (_, epoch, revision_id), found in sorted(
        merged.items(), key=lambda kv: (kv[0][1], kv[0][2] is not None, kv[0][2] or 0)
    ):
        if revision_id not in series:
            series[revision_id] = LatencySeries(
                revision_id=revision_id,
                revision_name=names.get(revision_id, NO_REVISION),
                points=[],
            )
        series[revision_id].points.append(
            LatencyPoint(
                time=datetime.fromtimestamp(epoch, tz=UTC),
                p50=found.p50,
                p95=found.p95,
                p99=found.p99,
                samples=found.samples,
                error=found.error,
            )
        )
    return list(series.values())


def sparkline_range(time_range: TimeRange) -> TimeRange:
    """The overview's sparklines: a point an hour for ranges read from minute rollups (24 for a
    day, instead of 96), the chart's own steps otherwise."""
    if time_range.rollup != "minute":
        return time_range
    return replace(time_range, rollup="hour", step_seconds=3600)


def latency_p95_by_service(
    *, service_ids: list[int], time_range: TimeRange, end: datetime
) -> dict[int, list[tuple[datetime, float]]]:
    """Per service id: the (time, p95) points of latency_series, every revision's together,
    oldest first, at the steps of ``sparkline_range``; for the overview's sparklines. Three
    queries at most, whatever the number of services."""
    if not service_ids:
        return {}
    steps = sparkline_range(time_range)
    plan = _plan(service_ids=service_ids, time_range=steps, end=end)
    # Few objects per point: a year of 50 services is 18,250 of them, and every allocation
    # brings Python's cyclic collector closer to a full pass over the whole process.
    points: dict[int, list[tuple[datetime, float]]] = {}
    for service_id, epoch, _, p95 in _sealed(service_ids, plan, "r.p95"):
        points.setdefault(service_id, []).append((datetime.fromtimestamp(epoch, tz=UTC), p95))
    for (service_id, epoch, _), sketch in _live(plan, steps).items():
        at = datetime.fromtimestamp(int(epoch), tz=UTC)
        points.setdefault(int(service_id), []).append((at, sketch.percentile(0.95) or 0.0))
    return {service_id: sorted(found) for service_id, found in points.items()}


def latency_window(
    *, start: datetime, end: datetime, service_ids: list[int] | None = None
) -> Merged:
    """The merged sketch of every hour rollup in ``[start, end)`` (of ``service_ids``, or of all
    services), with its error bound; for figures over a whole period. One query."""
    if service_ids is not None and not service_ids:
        return Merged()
    where, params = "TRUE", []
    if service_ids is not None:
        where, params = f"p.service_id IN ({', '.join(['%s'] * len(service_ids))})", service_ids
    merged = sketches_by(
        table=ProbeRollupHour._meta.db_table,
        groups=["1"],
        where=where,
        params=params,
        start=start,
        end=end,
    )
    return merged.get((1,), Merged())


@dataclass(frozen=True)
class LatencyErrorNote:
    """What the page says about the error of the percentiles it charts."""

    sketch_error: str  # "± 1 %"
    legacy_error: str  # "± 33 %" when some points come from rollups written before sketches
    legacy_until: datetime | None  # the start of the last such point
    legacy_everywhere: bool


def latency_error_note(series: list[LatencySeries]) -> LatencyErrorNote | None:
    """The error bounds of the charted points: one for the sketch, and the older rollups' own
    where the range reaches back before sketches (None without points)."""
    points = [point for item in series for point in item.points]
    if not points:
        return None
    legacy = [point for point in points if point.error > sketches.RELATIVE_ACCURACY]
    return LatencyErrorNote(
        sketch_error=sketches.error_text(sketches.RELATIVE_ACCURACY),
        legacy_error=sketches.error_text(max(p.error for p in legacy)) if legacy else "",
        legacy_until=max(p.time for p in legacy) if legacy else None,
        legacy_everywhere=len(legacy) == len(points),
    )
