"""Health state of a service or a revision, and whether a new revision is stable.

The rule (also shown on the health page, from ``HEALTH_RULE``), applied in this order over the
last 15 minutes of probe checks:

1. **down** — an incident is open, or fewer than 50 % of probe checks succeeded;
2. **degraded** when no probe checked it at all but the last finished test run did not pass (a
   suite scheduled as the only monitor), else **unknown** — no probe checked it at all;
3. **degraded** — fewer than 99 % of checks succeeded, or a probe's p95 latency is over its
   threshold (the probe's own, else ``HEALTH_DEFAULT_LATENCY_THRESHOLD_MS``, 1000 ms), or the
   last finished test run failed, errored, was cancelled or lost;
4. **healthy** — otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from engine.formatting import percent_text
from health.models import Incident, ProbeResult, ProbeRollupMinute
from health.selectors._sql import sketches_by
from runs.models import Revision, Service, TestRun

WINDOW = timedelta(minutes=15)
DOWN_BELOW = 0.50
HEALTHY_FROM = 0.99
HEALTH_RULE = (
    "Over the last 15 minutes of probe checks: down when an incident is open or under 50 % of "
    "checks succeeded; unknown when nothing was checked (degraded if the last test run did not "
    "pass); degraded when under 99 % succeeded, a "
    "probe's p95 latency is over its threshold (1000 ms unless the probe sets one), or the last "
    "test run did not pass; healthy otherwise."
)


@dataclass(frozen=True)
class HealthState:
    """A state (healthy / degraded / down / unknown) and the sentence that explains it."""

    state: str
    reason: str
    uptime: float | None = None
    p95_ms: float | None = None


@dataclass
class _Evidence:
    checks: int = 0
    ok: int = 0
    # (probe name, p95 ms, threshold ms) per probe checked in the window
    latencies: list[tuple[str, float, float]] = field(default_factory=list)
    incident: Incident | None = None
    last_run: TestRun | None = None


def _threshold(value: int | None) -> float:
    default: float = getattr(settings, "HEALTH_DEFAULT_LATENCY_THRESHOLD_MS", 1000)
    return float(value or default)


def _percent(value: float) -> str:
    return percent_text(value)


def health_judge(evidence: _Evidence) -> HealthState:
    """Apply the module's rule to the evidence gathered for one service or revision."""
    uptime = evidence.ok / evidence.checks if evidence.checks else None
    p95 = max((p for _, p, _ in evidence.latencies), default=None)
    if evidence.incident is not None:
        when = timezone.localtime(evidence.incident.opened_at).strftime("%Y-%m-%d %H:%M")
        error = evidence.incident.first_error or "no error text"
        return HealthState(
            "down",
            f"Down: probe “{evidence.incident.probe.name}” has been failing since {when} "
            f"({error}).",
            uptime,
            p95,
        )
    if uptime is not None and uptime < DOWN_BELOW:
        return HealthState(
            "down",
            f"Down: only {_percent(uptime)} of {evidence.checks} probe checks succeeded "
            "in the last 15 minutes.",
            uptime,
            p95,
        )
    run = evidence.last_run
    if uptime is None:
        # A suite scheduled as a monitor may be all that watches a service: its outcome shows.
        unchecked = "no probe checked it in the last 15 minutes"
        if run is None:
            return HealthState("unknown", f"Unknown: {unchecked}.")
        if run.status != TestRun.Status.PASSED:
            return HealthState(
                "degraded",
                f"Degraded: the last test run #{run.pk} {run.get_status_display().lower()}; "
                f"{unchecked}.",
            )
        return HealthState("unknown", f"Unknown: {unchecked}; the last test run passed.")
    problems = []
    if uptime < HEALTHY_FROM:
        problems.append(
            f"{_percent(uptime)} of {evidence.checks} probe checks succeeded in the last 15 minutes"
        )
    problems += [
        f"probe “{name}” p95 latency {p95_ms:.0f} ms is over its {limit:.0f} ms threshold"
        for name, p95_ms, limit in evidence.latencies
        if p95_ms > limit
    ]
    if run is not None and run.status != TestRun.Status.PASSED:
        problems.append(f"the last test run #{run.pk} {run.get_status_display().lower()}")
    if problems:
        return HealthState("degraded", "Degraded: " + "; ".join(problems) + ".", uptime, p95)
    run_text = "the last test run passed" if run is not None else "no test run has finished yet"
    latency = f", p95 latency {p95:.0f} ms" if p95 is not None else ""
    return HealthState(
        "healthy",
        f"Healthy: {_percent(uptime)} of {evidence.checks} probe checks succeeded in the last "
        f"15 minutes{latency}, and {run_text}.",
        uptime,
        p95,
    )


def _gather(*, key: str, scope: dict, now: datetime, keys: list[int]) -> dict[int, _Evidence]:
    """Evidence per ``key`` value (service or revision id) for rollups matching ``scope``."""
    start = now - WINDOW
    evidence: dict[int, _Evidence] = defaultdict(_Evidence)
    per_probe = (
        ProbeRollupMinute.objects.filter(bucket_start__gte=start, **scope)
        .values("probe_id", "probe__name", "probe__latency_threshold_ms", key)
        .annotate(count=Sum("count"), ok=Sum("ok_count"))
    )
    column = "p.service_id" if key == "probe__service_id" else "r.revision_id"
    merged = sketches_by(
        table=ProbeRollupMinute._meta.db_table,
        groups=["r.probe_id"],
        where=f"{column} IN ({', '.join(['%s'] * len(keys))})",
        params=keys,
        start=start,
        end=now + timedelta(minutes=1),
    )
    for row in per_probe:
        item = evidence[row[key]]
        item.checks += row["count"] or 0
        item.ok += row["ok"] or 0
        found = merged.get((row["probe_id"],))
        p95 = found.percentile(0.95) if found else None
        if p95 is not None:
            item.latencies.append(
                (row["probe__name"], p95, _threshold(row["probe__latency_threshold_ms"]))
            )
    return evidence


def service_health_states(service_ids: list[int]) -> dict[int, HealthState]:
    """Health of each service (its probes, open incidents, last finished run). Five queries."""
    ids = list(service_ids)
    if not ids:
        return {}
    now = timezone.now()
    evidence = _gather(
        key="probe__service_id", scope={"probe__service_id__in": ids}, now=now, keys=ids
    )
    for incident in (
        Incident.objects.filter(service_id__in=ids, closed_at__isnull=True)
        .select_related("probe")
        .order_by("-opened_at")
    ):
        evidence[incident.service_id].incident = incident
    last_runs = _last_runs(
        Service.objects.filter(pk__in=ids), TestRun.objects.filter(service=OuterRef("pk"))
    )
    for service_id, run in last_runs.items():
        evidence[service_id].last_run = run
    return {service_id: health_judge(evidence[service_id]) for service_id in ids}


def revision_health(revision: Revision) -> HealthState:
    """Health of one revision: probe checks that hit it, incidents opened on it while still
    open, and the last finished test run against it. Five queries."""
    now = timezone.now()
    evidence = _gather(
        key="revision_id", scope={"revision_id": revision.pk}, now=now, keys=[revision.pk]
    )[revision.pk]
    evidence.incident = (
        Incident.objects.filter(revision=revision, closed_at__isnull=True)
        .select_related("probe")
        .order_by("-opened_at")
        .first()
    )
    runs = _last_runs(
        Revision.objects.filter(pk=revision.pk), TestRun.objects.filter(revision=OuterRef("pk"))
    )
    evidence.last_run = runs.get(revision.pk)
    return health_judge(evidence)


def _last_runs(owners, runs) -> dict[int, TestRun]:
    last = owners.annotate(
        last_run_id=Subquery(
            runs.filter(status__in=TestRun.FINISHED).order_by("-created_at").values("pk")[:1]
        )
    ).values_list("pk", "last_run_id")
    ids = {owner: run for owner, run in last if run}
    found = TestRun.objects.in_bulk(ids.values())
    return {owner: found[run] for owner, run in ids.items() if run in found}


def revision_stable(*, revision: Revision, consecutive: int, window_seconds: int) -> bool:
    """True when the last ``consecutive`` probe results that hit ``revision`` within the last
    ``window_seconds`` were all successful (and there were at least that many)."""
    if consecutive < 1:
        raise ValueError(f"consecutive must be at least 1, got {consecutive}")
    since = timezone.now() - timedelta(seconds=window_seconds)
    latest = list(
        ProbeResult.objects.filter(revision=revision, checked_at__gte=since)
        .order_by("-checked_at")
        .values_list("ok", flat=True)[:consecutive]
    )
    return len(latest) == consecutive and all(latest)
