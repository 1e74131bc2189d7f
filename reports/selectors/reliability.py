"""Reliability figures from health's tables: uptime, p95 latency, incidents and their durations.

Reads health.models directly with plain aggregates; how much probe data is enough comes from
health.selectors.uptime, so the health page and the summary never disagree about thin data.
"""

from __future__ import annotations

from django.db.models import Count, DurationField, ExpressionWrapper, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least

from health.models import Incident, ProbeRollupHour
from health.selectors.latency import latency_window
from health.selectors.uptime import MIN_PROBE_CHECKS, not_enough_checks, uptime_figure
from health.sketch import RELATIVE_ACCURACY as sketch_accuracy
from health.sketch import error_text
from reports.figures import Figure
from reports.numbers import hours_text, percent_text, to_hours
from reports.scope import Scope
from reports.selectors.common import evidence_url


def _rollups(scope: Scope):
    rollups = ProbeRollupHour.objects.filter(
        bucket_start__gte=scope.start_dt, bucket_start__lt=scope.end_dt
    )
    return scope.filter(rollups, "probe__service")


def incidents_in_scope(scope: Scope):
    """Incidents that overlap the period, with their duration inside it (open ones run to the end
    of the period)."""
    incidents = Incident.objects.filter(opened_at__lt=scope.end_dt).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=scope.start_dt)
    )
    end = Value(scope.end_dt)
    return scope.filter(incidents).annotate(
        inside=ExpressionWrapper(
            Least(Coalesce("closed_at", end), end) - Greatest("opened_at", Value(scope.start_dt)),
            DurationField(),
        )
    )


def reliability_figures(scope: Scope) -> list[Figure]:
    checks = _rollups(scope).aggregate(count=Sum("count"), ok=Sum("ok_count"))
    count, ok = checks["count"] or 0, checks["ok"] or 0
    probes_url = evidence_url(scope, "incidents")
    figures = []
    if uptime_figure(ok, count).enough:
        uptime = Figure(
            "reliability.uptime",
            "Uptime",
            percent_text(ok, count),
            ok / count,
            "%",
            count,
            True,
            probes_url,
            "successful probe checks / all probe checks (maintenance excluded)",
        )
    else:
        uptime = Figure(
            "reliability.uptime",
            "Uptime",
            not_enough_checks(count),
            None,
            "%",
            count,
            False,
            probes_url,
            "successful probe checks / all probe checks (maintenance excluded)",
        )
    figures.append(uptime)

    enough = count >= MIN_PROBE_CHECKS
    merged = (
        latency_window(start=scope.start_dt, end=scope.end_dt, service_ids=scope.service_ids)
        if enough
        else None
    )
    p95 = merged.percentile(0.95) if merged else None
    definition = (
        "95th percentile of probe latency, from hourly latency sketches "
        f"(within {error_text(merged.error if merged and merged.error else sketch_accuracy)})"
    )
    if p95 is None:
        figures.append(
            Figure(
                "reliability.p95_latency",
                "p95 latency",
                not_enough_checks(count),
                None,
                "ms",
                count,
                False,
                probes_url,
                definition,
            )
        )
    else:
        figures.append(
            Figure(
                "reliability.p95_latency",
                "p95 latency",
                f"{p95:.0f} ms",
                p95,
                "ms",
                count,
                True,
                probes_url,
                definition,
            )
        )

    inc = incidents_in_scope(scope).aggregate(
        overlapping=Count("pk"),
        opened=Count("pk", filter=Q(opened_at__gte=scope.start_dt)),
        still_open=Count("pk", filter=Q(closed_at__isnull=True)),
        downtime=Sum("inside"),
        longest=Max("inside"),
    )
    n = inc["overlapping"]
    downtime, longest = to_hours(inc["downtime"]) or 0.0, to_hours(inc["longest"]) or 0.0
    figures += [
        Figure(
            "reliability.incidents",
            "Incidents",
            str(inc["opened"]),
            inc["opened"],
            "incidents",
            n,
            True,
            probes_url,
            "incidents opened in the period",
        ),
        Figure(
            "reliability.incident_time",
            "Time in incidents",
            hours_text(downtime),
            downtime,
            "hours",
            n,
            True,
            probes_url,
            "sum of incident durations inside the period (open ones run to its end)",
        ),
        Figure(
            "reliability.longest_incident",
            "Longest incident",
            hours_text(longest),
            longest,
            "hours",
            n,
            True,
            probes_url,
            "the longest incident, counted inside the period",
        ),
        Figure(
            "reliability.open_incidents",
            "Incidents still open",
            str(inc["still_open"]),
            inc["still_open"],
            "incidents",
            n,
            True,
            probes_url,
            "overlapping incidents not closed yet",
        ),
    ]
    return figures
