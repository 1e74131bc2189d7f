"""What a status page shows: each service's state now, 90 daily uptime bars and the incident
history with the one-line cause of their analyses. Nothing internal: no URLs of services or
probes, and probe names and error texts only when the page allows them.

An incident's analysis is the newest analysis of the same service about the incident's
revision (analyses name a revision, incidents the revision they hit; there is no direct link).
Its one-line cause is the analysis' first root cause, else its title.

The daily bars sum hour rollups per local day in SQL; the 89 finished days' sums are cached for
PAST_DAYS_SECONDS (keyed by time zone, date and services), today's are read on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analyses.models import Analysis
from health.models import Incident, ProbeRollupHour
from health.selectors import UptimeDay, service_health_states, uptime_figure
from health.selectors.maintenance import maintenance_occurrences
from reports.models import StatusPage
from runs.models import Service

DAYS = 90
INCIDENTS = 50
# How long the finished days' sums are reused: a late result shows within this long.
PAST_DAYS_SECONDS = 15 * 60


def status_page_for(*, slug: str, authenticated: bool) -> StatusPage | None:
    """The page at ``slug`` if this visitor may see it: a public one for anyone, a private one
    only for a signed-in user; None otherwise (answered as 404, so nobody learns it exists)."""
    page = StatusPage.objects.filter(slug=slug).first()
    if page is None or not (page.public or authenticated):
        return None
    return page


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # healthy / degraded / down / unknown / maintenance
    days: list[UptimeDay]

    @property
    def label(self) -> str:
        return "under maintenance" if self.state == "maintenance" else self.state


@dataclass(frozen=True)
class IncidentLine:
    service: str
    opened_at: datetime
    closed_at: datetime | None
    probe: str  # "" unless the page shows test names
    error: str  # "" unless the page shows error texts
    cause: str

    @property
    def duration_seconds(self) -> float | None:
        return (self.closed_at - self.opened_at).total_seconds() if self.closed_at else None


@dataclass(frozen=True)
class StatusPageData:
    services: list[ServiceStatus]
    incidents: list[IncidentLine]


def _day_counts(ids: list[int], start: datetime, end: datetime) -> dict[tuple[int, str], tuple]:
    """(ok, checks) per (service, local day as ISO text) of hour rollups in [start, end)."""
    rows = (
        ProbeRollupHour.objects.filter(
            probe__service_id__in=ids, bucket_start__gte=start, bucket_start__lt=end
        )
        # Days in the site's time zone: TruncDate converts to the current time zone in SQL.
        .annotate(day=TruncDate("bucket_start"))
        .values("probe__service_id", "day")
        .annotate(count=Sum("count"), ok=Sum("ok_count"))
        .order_by()
    )
    return {
        (row["probe__service_id"], row["day"].isoformat()): (row["ok"], row["count"])
        for row in rows
    }


def _days_by_service(ids: list[int], now: datetime) -> dict[int, list[UptimeDay]]:
    today = timezone.localdate(now)
    first = today - timedelta(days=DAYS - 1)
    first_moment = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    today_moment = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    # The 89 finished days are summed once per PAST_DAYS_SECONDS (a year of hour rollups of 50
    # services is 108,000 rows to group); today is always read live.
    key = "status-days:{}:{}:{}".format(
        timezone.get_current_timezone_name(), today.isoformat(), ",".join(map(str, sorted(ids)))
    )
    past = cache.get(key)
    if past is None:
        past = _day_counts(ids, first_moment, today_moment)
        cache.set(key, past, PAST_DAYS_SECONDS)
    found = {**past, **_day_counts(ids, today_moment, now + timedelta(hours=1))}
    strips: dict[int, list[UptimeDay]] = {}
    for service_id in ids:
        strip = []
        for offset in range(DAYS):
            day = first + timedelta(days=offset)
            ok, checks = found.get((service_id, day.isoformat()), (0, 0))
            strip.append(UptimeDay(day=day, figure=uptime_figure(ok, checks)))
        strips[service_id] = strip
    return strips


def _causes(incidents: list[Incident]) -> dict[int, str]:
    """One-line cause per revision id, from the newest analysis of that revision."""
    revision_ids = {i.revision_id for i in incidents if i.revision_id}
    causes: dict[int, str] = {}
    for revision_id, title, root_causes in (
        Analysis.objects.filter(revision_id__in=revision_ids)
        .order_by("revision_id", "-created_at")
        .values_list("revision_id", "title", "root_causes")
    ):
        if revision_id in causes:
            continue
        first = root_causes[0] if isinstance(root_causes, list) and root_causes else title
        causes[revision_id] = str(first).splitlines()[0] if first else ""
    return causes


def status_page_data(*, page: StatusPage, now: datetime) -> StatusPageData:
    """Everything the page shows. A fixed number of queries, whatever the number of services."""
    services = list(Service.objects.filter(status_pages=page).order_by("name").only("id", "name"))
    ids = [s.pk for s in services]
    states = service_health_states(ids)
    under_maintenance = {
        service_id
        for service_id, found in maintenance_occurrences(
            service_ids=ids, start=now, end=now + timedelta(microseconds=1)
        ).items()
        if found
    }
    strips = _days_by_service(ids, now) if ids else {}
    incidents = list(
        Incident.objects.filter(service_id__in=ids, opened_at__gte=now - timedelta(days=DAYS))
        .select_related("service", "probe")
        .order_by("-opened_at")[:INCIDENTS]
    )
    causes = _causes(incidents)
    return StatusPageData(
        services=[
            ServiceStatus(
                name=s.name,
                state="maintenance" if s.pk in under_maintenance else states[s.pk].state,
                days=strips[s.pk],
            )
            for s in services
        ],
        incidents=[
            IncidentLine(
                service=i.service.name,
                opened_at=i.opened_at,
                closed_at=i.closed_at,
                probe=i.probe.name if page.show_test_names else "",
                error=i.first_error if page.show_errors else "",
                cause=causes.get(i.revision_id or 0, ""),
            )
            for i in incidents
        ],
    )
