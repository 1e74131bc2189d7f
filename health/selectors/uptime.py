"""Uptime figures, the per-day uptime strip, incidents and deploy markers of a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from engine.formatting import percent_text
from health.models import Incident, ProbeRollupDay, ProbeRollupHour, ProbeRollupMinute
from runs.models import Deploy

# The one rule for thin probe data, used by the health page and the manager's summary alike:
# below this many checks an uptime (or a latency percentile) is withheld, not shown as a number.
# A quarter of an hour of 30-second probes is 31 checks; 100 % of those says nothing yet.
MIN_PROBE_CHECKS = 100


def not_enough_checks(checks: int) -> str:
    """What every surface says instead of a figure computed from too few probe checks."""
    return f"not enough data ({checks} checks, needs {MIN_PROBE_CHECKS})"


@dataclass(frozen=True)
class UptimeFigure:
    """Successful probe checks out of all checks; the share only from MIN_PROBE_CHECKS on."""

    ok: int
    checks: int

    @property
    def enough(self) -> bool:
        return self.checks >= MIN_PROBE_CHECKS

    @property
    def share(self) -> float | None:
        """0..1, or None below MIN_PROBE_CHECKS checks."""
        return self.ok / self.checks if self.enough else None

    @property
    def text(self) -> str:
        """ "99.87 %" (two decimals, truncated) or "not enough data (31 checks, needs 100)"."""
        share = self.share
        return not_enough_checks(self.checks) if share is None else percent_text(share, 2)


def uptime_figure(ok: int | None, checks: int | None) -> UptimeFigure:
    return UptimeFigure(ok=ok or 0, checks=checks or 0)


@dataclass(frozen=True)
class Uptime:
    """Uptime over the last day, week and month."""

    day: UptimeFigure
    week: UptimeFigure
    month: UptimeFigure


@dataclass(frozen=True)
class UptimeDay:
    day: date
    figure: UptimeFigure

    @property
    def checks(self) -> int:
        return self.figure.checks

    @property
    def uptime(self) -> float | None:
        """The day's share of successful checks; None without enough checks."""
        return self.figure.share

    @property
    def css(self) -> str:
        """A class for the strip: green at 99.9 % and up, amber from 99 %, red below, grey when
        the day has too few checks to say."""
        if self.uptime is None:
            return "none"
        if self.uptime >= 0.999:
            return "up"
        return "partial" if self.uptime >= 0.99 else "downish"


def service_uptime(*, service_id: int, now: datetime) -> Uptime:
    """Uptime over the last 24 h (minute rollups), 7 d and 30 d (hour rollups), each withheld
    below MIN_PROBE_CHECKS checks. Two queries."""
    day = ProbeRollupMinute.objects.filter(
        probe__service_id=service_id, bucket_start__gte=now - timedelta(hours=24)
    ).aggregate(count=Sum("count"), ok=Sum("ok_count"))
    week_start = now - timedelta(days=7)
    hours = ProbeRollupHour.objects.filter(
        probe__service_id=service_id, bucket_start__gte=now - timedelta(days=30)
    ).aggregate(
        week=Sum("count", filter=Q(bucket_start__gte=week_start)),
        week_ok=Sum("ok_count", filter=Q(bucket_start__gte=week_start)),
        month=Sum("count"),
        month_ok=Sum("ok_count"),
    )
    return Uptime(
        day=uptime_figure(day["ok"], day["count"]),
        week=uptime_figure(hours["week_ok"], hours["week"]),
        month=uptime_figure(hours["month_ok"], hours["month"]),
    )


def uptime_by_day(*, service_id: int, now: datetime, days: int) -> list[UptimeDay]:
    """Uptime of each of the last ``days`` days (today included, in the site's time zone),
    oldest first, from day rollups; days with fewer than MIN_PROBE_CHECKS checks have
    ``uptime=None``. One query."""
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    first_moment = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    rows = (
        ProbeRollupDay.objects.filter(probe__service_id=service_id, bucket_start__gte=first_moment)
        .values("bucket_start")
        .annotate(count=Sum("count"), ok=Sum("ok_count"))
        .order_by()
    )
    by_day: dict[date, tuple[int, int]] = {}
    for row in rows:
        day = timezone.localdate(row["bucket_start"])
        ok, checks = by_day.get(day, (0, 0))
        by_day[day] = (ok + row["ok"], checks + row["count"])
    strip = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        strip.append(UptimeDay(day=day, figure=uptime_figure(*by_day.get(day, (0, 0)))))
    return strip


def service_incidents(
    *, service_id: int, start: datetime, end: datetime, limit: int = 100
) -> QuerySet[Incident]:
    """Incidents of the service that overlap ``[start, end)``, newest first, with their probe
    and revision loaded; ``duration_seconds`` is None while one is open."""
    return (
        Incident.objects.filter(service_id=service_id, opened_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .select_related("probe", "revision")
        .order_by("-opened_at")[:limit]
    )


@dataclass(frozen=True)
class DeployMarker:
    time: datetime
    label: str
    status: str
    url: str


def deploy_markers(
    *, service_id: int, start: datetime, end: datetime, limit: int = 200
) -> list[DeployMarker]:
    """Deploys of the service in the range, as markers at the time they finished (or started)."""
    deploys = (
        Deploy.objects.filter(service_id=service_id, created_at__gte=start, created_at__lt=end)
        .select_related("revision")
        .order_by("-created_at")[:limit]
    )
    return [
        DeployMarker(
            time=d.finished_at or d.started_at or d.created_at,
            label=d.revision.name if d.revision else (d.image or f"deploy #{d.pk}"),
            status=d.status,
            url=d.get_absolute_url(),
        )
        for d in deploys
    ]
