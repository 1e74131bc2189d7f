"""Reads for the overview page: one card per service, with its trends."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, OuterRef, Prefetch, Subquery, Window
from django.db.models.functions import RowNumber, TruncDay
from django.utils import timezone

from runs.models import Deploy, Service, TestRun
from runs.selectors.flaky import flaky_counts_by_service
from runs.selectors.rates import each_run_pass_rate, run_pass_rate

TREND_DAYS = 30
TREND_RUNS = 50


@dataclass
class ServiceCard:
    service: Service
    last_run: TestRun | None
    active_deploy: Deploy | None
    by_day: list[tuple] = field(default_factory=list)  # (day, pass rate, runs)
    by_run: list[tuple] = field(default_factory=list)  # (run id, time, pass rate)
    flaky_tests: int = 0
    runs_in_range: int = 0
    # Filled in for the overview page by dashboard.cards, which reads health and analyses.
    day_chart: str = ""
    run_chart: str = ""
    latency_chart: str | None = None
    health: object | None = None  # a health.selectors.states.HealthState
    analyses: dict[str, int] = field(default_factory=dict)


def _by_day(start: datetime, end: datetime) -> dict[int, list[tuple]]:
    rows = (
        TestRun.objects.filter(
            status__in=TestRun.FINISHED, created_at__gte=start, created_at__lt=end
        )
        .annotate(day=TruncDay("created_at"))
        .values("service_id", "day")
        .annotate(rate=run_pass_rate(), runs=Count("pk"))
        .order_by("service_id", "day")
        .values_list("service_id", "day", "rate", "runs")
    )
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for service_id, day, rate, runs in rows:
        grouped[service_id].append((day, rate, runs))
    return grouped


def _by_run(limit: int, start: datetime, end: datetime) -> dict[int, list[tuple]]:
    rows = (
        TestRun.objects.filter(
            status__in=TestRun.FINISHED, created_at__gte=start, created_at__lt=end
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("service_id")],
                order_by=[F("created_at").desc(), F("pk").desc()],
            )
        )
        .filter(position__lte=limit)
        .order_by("service_id", "created_at", "pk")
        .annotate(rate=each_run_pass_rate())
        .values_list("service_id", "pk", "created_at", "rate")
    )
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for service_id, pk, at, rate in rows:
        grouped[service_id].append((pk, at, rate))
    return grouped


def service_cards(
    *, start: datetime | None = None, end: datetime | None = None
) -> list[ServiceCard]:
    """Every service with its current revision, last finished run, active deploy, pass-rate trend
    (by day, and over its last TREND_RUNS runs, both within [start, end): by default the last
    TREND_DAYS days), finished runs in that span, and flaky-test count.

    A fixed number of queries, whatever the number of services, runs or results.
    """
    last_run_id = (
        TestRun.objects.filter(service=OuterRef("pk"), status__in=TestRun.FINISHED)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    services = list(
        Service.objects.select_related("current_revision")
        .annotate(last_run_id=Subquery(last_run_id))
        .prefetch_related(
            Prefetch(
                "deploys",
                queryset=Deploy.objects.filter(status__in=Deploy.ACTIVE),
                to_attr="active_deploys",
            )
        )
    )
    if not services:
        return []
    runs = TestRun.objects.select_related("revision", "suite").in_bulk(
        [s.last_run_id for s in services if s.last_run_id]
    )
    end = end or timezone.now()
    start = start or end - timedelta(days=TREND_DAYS)
    by_day = _by_day(start, end)
    by_run = _by_run(TREND_RUNS, start, end)
    flaky = flaky_counts_by_service()
    return [
        ServiceCard(
            service=s,
            last_run=runs.get(s.last_run_id),
            active_deploy=s.active_deploys[0] if s.active_deploys else None,
            by_day=by_day.get(s.pk, []),
            runs_in_range=sum(runs for _, _, runs in by_day.get(s.pk, [])),
            by_run=by_run.get(s.pk, []),
            flaky_tests=flaky.get(s.pk, 0),
        )
        for s in services
    ]
