"""Maintenance windows of services and when they are open (``health.maintenance``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from health.maintenance import Occurrence, Spec, all_occurrences, covering
from health.models import MaintenanceWindow

# How far ahead the health page looks for the next window.
UPCOMING = timedelta(days=7)


def site_zone() -> ZoneInfo:
    """The configured time zone (STAGELOOP_TIME_ZONE), which weekly windows follow."""
    return ZoneInfo(timezone.get_default_timezone_name())


def window_spec(window: MaintenanceWindow) -> Spec:
    return Spec(
        kind=window.kind,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        weekdays=tuple(window.weekdays or ()),
        local_start=window.local_start,
        duration_minutes=window.duration_minutes,
        ident=window.pk,
    )


def maintenance_occurrences(
    *, service_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[Occurrence]]:
    """Per service, the windows' occurrences overlapping ``[start, end)``, by start. One query."""
    windows = MaintenanceWindow.objects.filter(service_id__in=list(service_ids)).filter(
        Q(kind=MaintenanceWindow.Kind.WEEKLY) | Q(starts_at__lt=end, ends_at__gt=start)
    )
    specs: dict[int, list[Spec]] = {}
    for window in windows:
        specs.setdefault(window.service_id, []).append(window_spec(window))
    zone = site_zone()
    return {
        service_id: found
        for service_id, items in specs.items()
        if (found := all_occurrences(items, start=start, end=end, tz=zone))
    }


@dataclass(frozen=True)
class MaintenanceNow:
    """The window open now (if any) and the next one to start within UPCOMING."""

    current: Occurrence | None
    upcoming: Occurrence | None


def maintenance_now(*, found: Sequence[Occurrence], now: datetime) -> MaintenanceNow:
    """Current and upcoming maintenance among occurrences already read (no query)."""
    return MaintenanceNow(
        current=covering(found, now),
        upcoming=next((o for o in found if now < o.start <= now + UPCOMING), None),
    )


def service_maintenance_windows(*, service_id: int) -> list[MaintenanceWindow]:
    return list(MaintenanceWindow.objects.filter(service_id=service_id))
