"""SLOs: their SLIs, error budgets, burn rates and burn-down, aggregated in SQL.

Events per kind of SLO (``health.models.Slo.Kind``):

- availability: probe checks (``count``), bad ones ``count - ok_count`` of the rollups. Only
  these two columns are read, so checks that the rollups leave out (maintenance) are left out
  here too.
- latency: probe responses (the samples of the rollups' latency sketches); a response is bad
  when its sketch bin lies above the bin of ``latency_threshold_ms``. A bin spans 1 % of its
  value (``health.sketch``), so a response within 1 % above the threshold may count as good.
  Checks without a response (timeouts, refused connections) count against availability, not
  latency.
- tests: scheduled suite runs that finished passed, failed or in error (by ``finished_at``);
  bad ones failed or errored. Cancelled, lost and skipped runs say nothing and are left out.

Each read is a fixed number of queries whatever the amount of data: one per kind of SLO for
any number of SLOs and windows (conditional sums), and one per SLO for a burn-down series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db import connection, models
from django.db.models import Count, Q
from django.utils import timezone

from health import sketch
from health.models import ProbeRollupDay, ProbeRollupHour, ProbeRollupMinute, Slo, SloAlert
from health.ranges import local_day_start
from health.selectors._serial import serial_reads
from health.selectors._sql import epoch_bucket
from runs.models import TestRun

SCHEDULED_TRIGGER: str = TestRun.Trigger.SCHEDULED
"""``TestRun.trigger`` of a run the schedule started: the only runs a tests objective counts."""

COUNTED_RUN_STATUSES = ("passed", "failed", "error")

Window = tuple[datetime, datetime]
"""``start <= bucket_start <= end`` (rollups) or ``start <= finished_at <= end`` (runs)."""


@dataclass(frozen=True)
class Counts:
    """Events of one SLO in one window: all of them, and the bad ones."""

    total: int = 0
    bad: int = 0

    @property
    def error_rate(self) -> float | None:
        """Bad events / events, or None without events (no data is never a rate)."""
        return self.bad / self.total if self.total else None

    def burn_rate(self, budget_share: float) -> float | None:
        """How many times faster than allowed the budget burns: 1 spends it exactly over the
        SLO's window. None without events."""
        rate = self.error_rate
        return None if rate is None else rate / budget_share


def slo_counts(
    slos: Sequence[Slo], windows: Sequence[Window], *, fine: bool
) -> dict[int, list[Counts]]:
    """Events of each SLO in each window (same order as ``windows``): minute rollups when
    ``fine`` (windows of hours), else hour rollups. At most three queries."""
    result = {slo.pk: [Counts() for _ in windows] for slo in slos}
    if not slos or not windows:
        return result
    by_kind: dict[str, list[Slo]] = {}
    for slo in slos:
        by_kind.setdefault(slo.kind, []).append(slo)
    table = ProbeRollupMinute if fine else ProbeRollupHour
    if Slo.Kind.TESTS in by_kind:
        per_service = _tests(_service_ids(by_kind[Slo.Kind.TESTS]), windows)
        for slo in by_kind[Slo.Kind.TESTS]:
            if slo.service_id in per_service:
                result[slo.pk] = per_service[slo.service_id]
    span = (min(w[0] for w in windows), max(w[1] for w in windows))
    result.update(_probe_counts(by_kind, windows, [(table, span)]))
    return result


Source = tuple[type[models.Model], Window]
"""A rollup table and the ``bucket_start`` range read from it."""


def _probe_counts(
    by_kind: dict[str, list[Slo]], windows: Sequence[Window], sources: Sequence[Source]
) -> dict:
    """Availability and latency counts of these SLOs in each window, from the rollups of these
    sources (read as one set of rows): one query per kind."""
    result: dict[int, list[Counts]] = {}
    if Slo.Kind.AVAILABILITY in by_kind:
        per_service = _availability(sources, _service_ids(by_kind[Slo.Kind.AVAILABILITY]), windows)
        for slo in by_kind[Slo.Kind.AVAILABILITY]:
            if slo.service_id in per_service:
                result[slo.pk] = per_service[slo.service_id]
    if Slo.Kind.LATENCY in by_kind:
        result.update(_latency(sources, by_kind[Slo.Kind.LATENCY], windows))
    return result


def _next_local_midnight(moment: datetime) -> datetime:
    """The start of the configured time zone's day after the one holding ``moment``."""
    after = timezone.localtime(moment).date() + timedelta(days=1)
    return local_day_start(timezone.make_aware(datetime.combine(after, time(12))))


def window_counts(slos: Sequence[Slo], window: Window) -> dict[int, Counts]:
    """Events of each SLO over one window of days: the whole local days inside it from the day
    rollups, the hours at its two ends from the hour rollups (the same checks as hour rollups
    alone give, read from ~24 times fewer rows). At most seven queries."""
    start, end = window
    first_day, last_day = _next_local_midnight(start), local_day_start(end)
    if first_day >= last_day:
        return {pk: found[0] for pk, found in slo_counts(slos, [window], fine=False).items()}
    by_kind: dict[str, list[Slo]] = {}
    for slo in slos:
        by_kind.setdefault(slo.kind, []).append(slo)
    tick = timedelta(microseconds=1)
    result = {slo.pk: Counts() for slo in slos}
    if Slo.Kind.TESTS in by_kind:
        per_service = _tests(_service_ids(by_kind[Slo.Kind.TESTS]), [window])
        for slo in by_kind[Slo.Kind.TESTS]:
            if slo.service_id in per_service:
                result[slo.pk] = per_service[slo.service_id][0]
    # Each piece keeps its own range (one range over both ends would read every hour between
    # them); the pieces do not overlap, so summed over the whole window each check counts once.
    sources = [
        (ProbeRollupHour, (start, first_day - tick)),
        (ProbeRollupDay, (first_day, last_day - tick)),
        (ProbeRollupHour, (last_day, end)),
    ]
    for pk, found in _probe_counts(by_kind, [window], sources).items():
        result[pk] = found[0]
    return result


def _service_ids(slos: Iterable[Slo]) -> list[int]:
    return sorted({slo.service_id for slo in slos})


def _in(prefix: str, window: Window) -> Q:
    return Q(**{f"{prefix}__gte": window[0], f"{prefix}__lte": window[1]})


def _rollups_sql(sources: Sequence[Source]) -> tuple[str, list]:
    """A FROM item ``r`` (probe_id, bucket_start, count, ok_count, sketch) holding the rollups
    of each source in its range, and its parameters."""
    ops = connection.ops
    selects, params = [], []
    for table, (start, end) in sources:
        selects.append(
            "SELECT probe_id, bucket_start, count, ok_count, sketch "  # noqa: S608 - our tables
            f"FROM {table._meta.db_table} WHERE bucket_start >= %s AND bucket_start <= %s"
        )
        params += [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    return f"({' UNION ALL '.join(selects)}) r", params


def _within(windows: Sequence[Window]) -> tuple[list[str], list]:
    """One condition on ``r.bucket_start`` per window, and their parameters."""
    ops = connection.ops
    conditions, params = [], []
    for start, end in windows:
        conditions.append("r.bucket_start >= %s AND r.bucket_start <= %s")
        params.append([ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)])
    return conditions, params


def _availability(sources: Sequence[Source], service_ids: list[int], windows) -> dict:
    rollups, rollup_params = _rollups_sql(sources)
    conditions, bounds = _within(windows)
    columns, column_params = [], []
    for condition, params in zip(conditions, bounds, strict=True):
        columns.append(f"SUM(CASE WHEN {condition} THEN r.count ELSE 0 END)")
        columns.append(f"SUM(CASE WHEN {condition} THEN r.count - r.ok_count ELSE 0 END)")
        column_params += params + params
    placeholders = ", ".join(["%s"] * len(service_ids))
    sql = f"""
        SELECT p.service_id, {", ".join(columns)}
        FROM {rollups} JOIN health_probe p ON p.id = r.probe_id
        WHERE p.service_id IN ({placeholders})
        GROUP BY p.service_id
    """  # noqa: S608 - our own SQL fragments; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*column_params, *rollup_params, *service_ids])
        rows = cursor.fetchall()
    return {
        row[0]: [
            Counts(total=int(row[1 + 2 * i] or 0), bad=int(row[2 + 2 * i] or 0))
            for i in range(len(windows))
        ]
        for row in rows
    }


def _tests(service_ids: list[int], windows: Sequence[Window]) -> dict:
    counts = {}
    for i, window in enumerate(windows):
        counts[f"t{i}"] = Count("pk", filter=_in("finished_at", window))
        counts[f"bad{i}"] = Count("pk", filter=_in("finished_at", window) & ~Q(status="passed"))
    rows = (
        TestRun.objects.filter(
            service_id__in=service_ids,
            trigger=SCHEDULED_TRIGGER,
            status__in=COUNTED_RUN_STATUSES,
            finished_at__gte=min(w[0] for w in windows),
            finished_at__lte=max(w[1] for w in windows),
        )
        .values("service_id")
        .annotate(**counts)
        .order_by()
    )
    return {
        row["service_id"]: [
            Counts(total=row[f"t{i}"], bad=row[f"bad{i}"]) for i in range(len(windows))
        ]
        for row in rows
    }


def _bin_sql() -> tuple[str, str, str]:
    """The FROM-clause that unnests each rollup's sketch, and its key and count columns."""
    if connection.vendor == "postgresql":
        return "CROSS JOIN LATERAL jsonb_each_text(r.sketch) AS e(k, n)", "e.k", "e.n::bigint"
    return ", json_each(r.sketch) e", "e.key", "e.value"


def _slow(key: str) -> str:
    # CASE evaluates in order, so the zero bin's key is never cast to a number.
    return f"CASE WHEN {key} = '{sketch.ZERO_KEY}' THEN 0 WHEN CAST({key} AS INTEGER) > t.max_key"


def _threshold_table(slos: Sequence[Slo]) -> tuple[str, list[int]]:
    """An inline table (slo_id, service_id, max_key): the highest good bin of each SLO. One
    VALUES list: a UNION ALL of one SELECT per SLO took the planner ~10 ms at 150 SLOs."""
    rows: list[str] = []
    params: list[int] = []
    for slo in slos:
        rows.append(
            "(CAST(%s AS INTEGER), CAST(%s AS INTEGER), CAST(%s AS INTEGER))"
            if not rows
            else "(%s, %s, %s)"
        )
        key = sketch.key_of(float(slo.latency_threshold_ms or 0))
        params += [slo.pk, slo.service_id, -(10**9) if key == sketch.ZERO_KEY else int(key)]
    return (
        "SELECT column1 AS slo_id, column2 AS service_id, column3 AS max_key "  # noqa: S608
        f"FROM (VALUES {', '.join(rows)}) v",
        params,
    )


def _bin_sums_sql() -> tuple[str, str, str]:
    """A FROM-clause addition and the two expressions that sum each rollup's sketch: all its
    responses, and the slow ones (above ``t.max_key``). On PostgreSQL one LATERAL aggregate per
    rollup row, so the planner expects one row per rollup instead of a guessed 100 bins each
    (that guess priced small reads high enough to start parallel workers, whose start-up on a
    busy machine took longer than the read)."""
    if connection.vendor == "postgresql":
        return (
            "CROSS JOIN LATERAL (SELECT SUM(e.n::bigint) AS total, "  # noqa: S608 - our own SQL
            f"SUM({_slow('e.k')} THEN e.n::bigint ELSE 0 END) AS slow "
            "FROM jsonb_each_text(r.sketch) AS e(k, n)) s",
            "s.total",
            "s.slow",
        )
    slow = f"SUM({_slow('e.key')} THEN e.value ELSE 0 END)"
    each = "FROM json_each(r.sketch) e"
    return "", f"(SELECT SUM(e.value) {each})", f"(SELECT {slow} {each})"


def _latency(sources: Sequence[Source], slos: Sequence[Slo], windows: Sequence[Window]) -> dict:
    rollups, rollup_params = _rollups_sql(sources)
    lateral, total, slow = _bin_sums_sql()
    thresholds, threshold_params = _threshold_table(slos)
    conditions, bounds = _within(windows)
    columns, column_params = [], []
    for condition, params in zip(conditions, bounds, strict=True):
        columns.append(f"SUM(CASE WHEN {condition} THEN {total} ELSE 0 END)")
        columns.append(f"SUM(CASE WHEN {condition} THEN {slow} ELSE 0 END)")
        column_params += params + params
    sql = f"""
        SELECT t.slo_id, {", ".join(columns)}
        FROM {rollups}
        JOIN health_probe p ON p.id = r.probe_id
        JOIN ({thresholds}) t ON t.service_id = p.service_id
        {lateral}
        GROUP BY t.slo_id
    """  # noqa: S608 - our own SQL fragments; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*column_params, *rollup_params, *threshold_params])
        rows = cursor.fetchall()
    return {
        row[0]: [
            Counts(total=int(row[1 + 2 * i] or 0), bad=int(row[2 + 2 * i] or 0))
            for i in range(len(windows))
        ]
        for row in rows
    }


# --- SLI and error budget over the SLO's window -------------------------------------------


@dataclass(frozen=True)
class SloStatus:
    """An SLO over its rolling window, now: SLI, error budget and open alerts."""

    slo: Slo
    counts: Counts
    alerts: list[SloAlert] = field(default_factory=list)

    @property
    def sli_percent(self) -> float | None:
        rate = self.counts.error_rate
        return None if rate is None else 100.0 * (1.0 - rate)

    @property
    def budget_total(self) -> float:
        """Bad events the window allows: ``(1 - objective) * events``."""
        return self.slo.budget_share * self.counts.total

    @property
    def budget_consumed(self) -> int:
        return self.counts.bad

    @property
    def budget_remaining(self) -> float:
        """Bad events still allowed; negative once the objective is missed."""
        return self.budget_total - self.counts.bad

    @property
    def budget_remaining_percent(self) -> float | None:
        """100 with no bad event, 0 when the budget is spent, below 0 past it; None without
        events."""
        if not self.counts.total:
            return None
        return 100.0 * self.budget_remaining / self.budget_total

    @property
    def exhausted(self) -> bool:
        """The budget is spent: the window's bad events reached what it allows."""
        return bool(self.counts.total) and self.counts.bad >= self.budget_total

    @property
    def state(self) -> str:
        """One word for badges and the status page: no_data, exhausted, burning, ok."""
        if not self.counts.total:
            return "no_data"
        if self.exhausted:
            return "exhausted"
        return "burning" if self.alerts else "ok"

    @property
    def state_text(self) -> str:
        return {"no_data": "no data", "exhausted": "budget spent", "burning": "burning fast"}.get(
            self.state, "within budget"
        )

    @property
    def css(self) -> str:
        """The badge class of ``state``."""
        return {"no_data": "unknown", "exhausted": "exhausted", "burning": "degraded"}.get(
            self.state, "healthy"
        )


def window_of(slo: Slo, now: datetime) -> Window:
    return (now - timedelta(days=slo.window_days), now)


def _statuses(slos: list[Slo], now: datetime) -> list[SloStatus]:
    counts: dict[int, Counts] = {}
    # One query per kind and window length (7, 28, 30 days): the window choices are few.
    by_days: dict[int, list[Slo]] = {}
    for slo in slos:
        by_days.setdefault(slo.window_days, []).append(slo)
    for days, group in by_days.items():
        counts.update(window_counts(group, (now - timedelta(days=days), now)))
    alerts: dict[int, list[SloAlert]] = {}
    for alert in SloAlert.objects.filter(
        slo_id__in=[s.pk for s in slos], closed_at__isnull=True
    ).order_by("severity"):
        alerts.setdefault(alert.slo_id, []).append(alert)
    return [
        SloStatus(slo=slo, counts=counts.get(slo.pk, Counts()), alerts=alerts.get(slo.pk, []))
        for slo in slos
    ]


def slo_statuses(service_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, list]:
    """Each SLO of these services with its SLI, budget and open alerts, by service id (every
    id present, an empty list for a service without SLOs). A few queries, whatever the data."""
    ids = list(service_ids)
    now = now or timezone.now()
    slos = list(Slo.objects.filter(service_id__in=ids).select_related("service"))
    result: dict[int, list[SloStatus]] = {pk: [] for pk in ids}
    if not slos:
        return result
    with serial_reads():
        statuses = _statuses(slos, now)
    for status in statuses:
        result[status.slo.service_id].append(status)
    return result


def service_exhausted_budgets(*, service_id: int, now: datetime | None = None) -> list[SloStatus]:
    """The SLOs of the service whose error budget is spent (the release gate refuses then)."""
    return [s for s in slo_statuses([service_id], now=now)[service_id] if s.exhausted]


def service_slo_alerts(
    *, service_id: int, start: datetime, end: datetime, limit: int = 100
) -> list[SloAlert]:
    """Burn-rate alerts of the service that overlap ``[start, end)``, newest first."""
    return list(
        SloAlert.objects.filter(service_id=service_id, opened_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .select_related("slo")
        .order_by("-opened_at")[:limit]
    )


# --- burn-down ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurnPoint:
    time: datetime
    remaining_percent: float


def burn_down(slo: Slo, *, now: datetime) -> list[BurnPoint]:
    """Budget remaining (percent of the window's budget) at the end of each step since the
    window's start: hours for a 7-day window, days for longer ones. The budget is that of the
    whole window so far, so the line starts at 100 and only falls. Empty without events. One
    query."""
    step = 3600 if slo.window_days <= 7 else 86400
    start, end = window_of(slo, now)
    rows = _per_step(slo, start=start, end=end, step=step)
    total = sum(t for _, t, _ in rows)
    if not total:
        return []
    budget = slo.budget_share * total
    points = [BurnPoint(time=start, remaining_percent=100.0)]
    spent = 0
    for bucket, _, bad in rows:
        spent += bad
        at = min(end, datetime.fromtimestamp(bucket + step, tz=UTC))
        points.append(BurnPoint(time=at, remaining_percent=100.0 * (budget - spent) / budget))
    return points


def _per_step(slo: Slo, *, start: datetime, end: datetime, step: int) -> list[tuple[int, int, int]]:
    """(bucket epoch, events, bad events) per step, oldest first."""
    if slo.kind == Slo.Kind.TESTS:
        return _tests_per_step(slo, start=start, end=end, step=step)
    ops = connection.ops
    bucket = epoch_bucket(step)
    table = ProbeRollupHour._meta.db_table
    bounds = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    if slo.kind == Slo.Kind.AVAILABILITY:
        sql = f"""
            SELECT {bucket}, SUM(r.count), SUM(r.count - r.ok_count)
            FROM {table} r JOIN health_probe p ON p.id = r.probe_id
            WHERE p.service_id = %s AND r.bucket_start >= %s AND r.bucket_start <= %s
            GROUP BY 1 ORDER BY 1
        """  # noqa: S608 - our own SQL fragments; every value is a parameter
        params: list = [slo.service_id, *bounds]
    else:
        unnest, key, n = _bin_sql()
        thresholds, threshold_params = _threshold_table([slo])
        sql = f"""
            SELECT {bucket}, SUM({n}), SUM({_slow(key)} THEN {n} ELSE 0 END)
            FROM {table} r
            JOIN health_probe p ON p.id = r.probe_id
            JOIN ({thresholds}) t ON t.service_id = p.service_id
            {unnest}
            WHERE r.bucket_start >= %s AND r.bucket_start <= %s
            GROUP BY 1 ORDER BY 1
        """  # noqa: S608 - our own SQL fragments; every value is a parameter
        params = [*threshold_params, *bounds]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(b), int(t or 0), int(bad or 0)) for b, t, bad in cursor.fetchall()]


def _tests_per_step(
    slo: Slo, *, start: datetime, end: datetime, step: int
) -> list[tuple[int, int, int]]:
    ops = connection.ops
    if connection.vendor == "postgresql":
        bucket = f"(FLOOR(EXTRACT(EPOCH FROM finished_at) / {step})::bigint * {step})"
    else:
        bucket = f"((CAST(strftime('%%s', finished_at) AS INTEGER) / {step}) * {step})"
    placeholders = ", ".join(["%s"] * len(COUNTED_RUN_STATUSES))
    sql = f"""
        SELECT {bucket}, COUNT(*), SUM(CASE WHEN status = 'passed' THEN 0 ELSE 1 END)
        FROM {TestRun._meta.db_table}
        WHERE service_id = %s AND trigger = %s AND status IN ({placeholders})
          AND finished_at >= %s AND finished_at <= %s
        GROUP BY 1 ORDER BY 1
    """  # noqa: S608 - our own SQL fragments; every value is a parameter
    params = [
        slo.service_id,
        SCHEDULED_TRIGGER,
        *COUNTED_RUN_STATUSES,
        ops.adapt_datetimefield_value(start),
        ops.adapt_datetimefield_value(end),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(b), int(t or 0), int(bad or 0)) for b, t, bad in cursor.fetchall()]
