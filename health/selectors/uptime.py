"""Uptime figures, the per-day uptime strip, incidents and deploy markers of a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from health.models import Incident, ProbeRollupHour, ProbeRollupMinute
from runs.models import Deploy


@dataclass(frozen=True)
class Uptime:
    """Share of successful probe checks (0..1), None where nothing was checked."""

    day: float | None
    week: float | None
    month: float | None


@dataclass(frozen=True)
class UptimeDay:
    day: date
    uptime: float | None
    checks: int

    @property
    def css(self) -> str:
        """A class for the strip: green at 99.9 % and up, amber from 99 %, red below, grey empty."""
        if self.uptime is None:
            return "none"
        if self.uptime >= 0.999:
            return "up"
        return "partial" if self.uptime >= 0.99 else "downish"


def _ratio(ok: int | None, count: int | None) -> float | None:
    return ok / count if count else None


def service_uptime(*, service_id: int, now: datetime) -> Uptime:
    """Uptime over the last 24 h (minute rollups), 7 d and 30 d (hour rollups). Two queries."""
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
        day=_ratio(day["ok"], day["count"]),
        week=_ratio(hours["week_ok"], hours["week"]),
        month=_ratio(hours["month_ok"], hours["month"]),
    )


def uptime_by_day(*, service_id: int, now: datetime, days: int) -> list[UptimeDay]:
    """Uptime of each of the last ``days`` days (today included, in the site's time zone),
    oldest first, from hour rollups; days without checks have ``uptime=None``. One query."""
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    first_moment = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    rows = (
        ProbeRollupHour.objects.filter(probe__service_id=service_id, bucket_start__gte=first_moment)
        .annotate(day=TruncDate("bucket_start"))
        .values("day")
        .annotate(count=Sum("count"), ok=Sum("ok_count"))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    strip = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day)
        strip.append(
            UptimeDay(
                day=day,
                uptime=_ratio(row["ok"], row["count"]) if row else None,
                checks=row["count"] if row else 0,
            )
        )
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
