"""What a status page shows: each service's state now, its SLOs, 90 daily uptime bars and the
incident history with the one-line cause of their analyses. Nothing internal: no URLs of services or
probes, and probe names and error texts only when the page allows them.

An incident's analysis is the newest analysis of the same service about the incident's
revision (analyses name a revision, incidents the revision they hit; there is no direct link).
Its one-line cause is the analysis' first root cause, else its title.

The daily bars read the day rollups (one row per probe, revision and local day, written with the
hour rollups): 90 days of 50 services is at most 4,500 rows per probe and revision, summed in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from analyses.models import Analysis
from health.models import Incident, ProbeRollupDay
from health.selectors import UptimeDay, UptimeFigure, service_health_states, uptime_figure
from health.selectors._sql import epoch_bucket
from health.selectors.maintenance import maintenance_occurrences
from health.selectors.slos import SloStatus, slo_statuses
from reports.models import StatusPage
from runs.models import Service

DAYS = 90
INCIDENTS = 50


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
    # each SLO's objective, SLI, budget left and state (within budget / burning fast / budget
    # spent / no data): names and figures only, never the SLO page's URL
    slos: tuple[SloStatus, ...] = ()

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


def _day_counts(ids: list[int], start: datetime) -> dict[tuple[int, date], tuple[int, int]]:
    """(ok, checks) per (service, local day) of the day rollups from ``start`` on. Raw SQL that
    returns each day as epoch seconds: 4,500 rows of timestamps cost more to parse and convert
    than the query took."""
    ids_sql = ", ".join(["%s"] * len(ids))
    sql = f"""
        SELECT p.service_id, {epoch_bucket(1)}, SUM(r.count), SUM(r.ok_count)
        FROM {ProbeRollupDay._meta.db_table} r JOIN health_probe p ON p.id = r.probe_id
        WHERE p.service_id IN ({ids_sql}) AND r.bucket_start >= %s
        GROUP BY 1, 2
    """  # noqa: S608 - our own SQL fragments; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, connection.ops.adapt_datetimefield_value(start)])
        rows = cursor.fetchall()
    days: dict[int, date] = {}  # each local midnight's day, worked out once
    found: dict[tuple[int, date], tuple[int, int]] = {}
    for service_id, epoch, count, ok in rows:
        day = days.get(epoch)
        if day is None:
            day = days[epoch] = timezone.localdate(datetime.fromtimestamp(int(epoch), tz=UTC))
        before_ok, before_count = found.get((service_id, day), (0, 0))
        found[service_id, day] = (before_ok + int(ok or 0), before_count + int(count or 0))
    return found


def _days_by_service(ids: list[int], now: datetime) -> dict[int, list[UptimeDay]]:
    today = timezone.localdate(now)
    first = today - timedelta(days=DAYS - 1)
    found = _day_counts(ids, timezone.make_aware(datetime.combine(first, datetime.min.time())))
    days = [first + timedelta(days=offset) for offset in range(DAYS)]
    figures: dict[tuple[int, int], UptimeFigure] = {}  # equal counts share one (immutable) figure
    strips: dict[int, list[UptimeDay]] = {}
    for service_id in ids:
        strip = []
        for day in days:
            counts = found.get((service_id, day), (0, 0))
            figure = figures.get(counts)
            if figure is None:
                figure = figures[counts] = uptime_figure(*counts)
            strip.append(UptimeDay(day=day, figure=figure))
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
    slos = slo_statuses(ids, now=now)
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
                slos=tuple(slos[s.pk]),
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
