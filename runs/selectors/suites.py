"""Reads for the suite page: pass rate over time and per revision, sizes, slow and failing tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import (
    Avg,
    Count,
    Max,
    Min,
    QuerySet,
)
from django.db.models.functions import TruncDay, TruncWeek

from runs.models import Deploy, Suite, SuiteRecentTables, TestCase, TestResult, TestRun
from runs.selectors.rates import FAILING, each_run_pass_rate, run_pass_rate
from runs.time_range import TimeRange, within

MAX_POINTS = 500
RECENT_RUNS = 20


@dataclass(frozen=True)
class Point:
    at: datetime
    pass_rate: float | None
    duration: float | None
    runs: int
    run_id: int | None = None


@dataclass
class Series:
    points: list[Point]
    bucket: str  # "run", "day" or "week"


def finished_runs(*, suite: Suite, span: TimeRange | None = None) -> QuerySet[TestRun]:
    """The suite's finished runs, those started within `span` when one is given."""
    runs = TestRun.objects.filter(suite=suite, status__in=TestRun.FINISHED)
    return within(runs, span) if span is not None else runs


def run_series(*, runs: QuerySet[TestRun], max_points: int = MAX_POINTS) -> Series:
    """Pass rate and duration of `runs` over time: one point per run while there are at most
    `max_points` runs, else one per day (or week) aggregated in SQL. Two queries."""
    span = runs.aggregate(n=Count("pk"), first=Min("created_at"), last=Max("created_at"))
    if not span["n"]:
        return Series(points=[], bucket="run")
    if span["n"] <= max_points:
        rows = (
            runs.annotate(rate=each_run_pass_rate())
            .order_by("created_at")
            .values_list("created_at", "rate", "duration", "pk")
        )
        return Series(points=[Point(at, r, d, 1, pk) for at, r, d, pk in rows], bucket="run")
    days = (span["last"] - span["first"]).days + 1
    bucket, trunc = ("day", TruncDay) if days <= max_points else ("week", TruncWeek)
    rows = (
        runs.annotate(bucket=trunc("created_at"))
        .values("bucket")
        .annotate(rate=run_pass_rate(), duration=Avg("duration"), n=Count("pk"))
        .order_by("bucket")
        .values_list("bucket", "rate", "duration", "n")
    )
    return Series(points=[Point(*row) for row in rows], bucket=bucket)


def revision_rates(*, suite: Suite, span: TimeRange | None = None, limit: int = 100) -> list[dict]:
    """Pass rate per revision over the suite's finished runs (within `span`), the last `limit`
    revisions in deploy order. One query."""
    rows = list(
        finished_runs(suite=suite, span=span)
        .filter(revision__isnull=False)
        .values("revision_id", "revision__name")
        .annotate(rate=run_pass_rate(), runs=Count("pk"), first=Min("created_at"))
        .order_by("-first")[:limit]
    )
    rows.reverse()
    return rows


def deploy_markers(
    *,
    suite: Suite,
    since: datetime | None,
    until: datetime | None = None,
    limit: int = MAX_POINTS,
) -> list[Mapping[str, Any]]:
    """Successful deploys of the suite's service from `since` to `until`, newest `limit`.
    One query."""
    deploys = Deploy.objects.filter(service_id=suite.service_id, status=Deploy.Status.SUCCEEDED)
    if since is not None:
        deploys = deploys.filter(created_at__gte=since)
    if until is not None:
        deploys = deploys.filter(created_at__lt=until)
    return list(
        deploys.order_by("-created_at").values("pk", "created_at", "revision__name")[:limit]
    )


def latest_run(*, suite: Suite) -> TestRun | None:
    return finished_runs(suite=suite).select_related("revision").order_by("-created_at").first()


def recent_runs(*, suite: Suite, span: TimeRange | None = None) -> list[int]:
    """Ids of the suite's last RECENT_RUNS finished runs (within `span`), newest first."""
    runs = finished_runs(suite=suite, span=span).order_by("-created_at", "-pk")
    return list(runs.values_list("pk", flat=True)[:RECENT_RUNS])


def _names(rows: list[dict]) -> list[dict]:
    """Each row with its test's name and key (one query for the few rows shown)."""
    names = dict(
        (pk, (name, key))
        for pk, name, key in TestCase.objects.filter(
            pk__in=[r["case_id"] for r in rows]
        ).values_list("pk", "name", "key")
    )
    return [
        {**r, "case__name": names[r["case_id"]][0], "case__key": names[r["case_id"]][1]}
        for r in rows
        if r["case_id"] in names
    ]


def slowest_tests_in(*, run_ids: list[int], limit: int = 10) -> list[dict]:
    """The tests with the longest mean duration over the runs `run_ids` (skips left out).
    Aggregated by test alone, then named: two queries."""
    rows = (
        TestResult.objects.filter(run_id__in=run_ids)
        .exclude(outcome="skipped")
        .values("case_id")
        .annotate(mean=Avg("duration"), longest=Max("duration"), runs=Count("pk"))
        .order_by("-mean", "case_id")[:limit]
    )
    return _names(list(rows))


def most_failing_tests_in(*, run_ids: list[int], limit: int = 10) -> list[dict]:
    """The tests that failed most often over the runs `run_ids`. Two queries."""
    rows = (
        TestResult.objects.filter(run_id__in=run_ids, outcome__in=FAILING)
        .values("case_id")
        .annotate(failures=Count("pk"), last_failed_run=Max("run_id"))
        .order_by("-failures", "case_id")[:limit]
    )
    return _names(list(rows))


def recent_tables(*, suite: Suite, span: TimeRange | None = None) -> dict:
    """The suite page's "slowest" and "failing" tables over its last RECENT_RUNS finished runs
    (within `span`): from the rollup's copy (runs.SuiteRecentTables) when it covers the same
    runs, else aggregated from those runs' results."""
    run_ids = recent_runs(suite=suite, span=span)
    stored = SuiteRecentTables.objects.filter(suite_id=suite.pk).first()
    if stored is not None and stored.run_ids == run_ids:
        return {"slowest": stored.slowest, "failing": stored.failing}
    return {
        "slowest": slowest_tests_in(run_ids=run_ids),
        "failing": most_failing_tests_in(run_ids=run_ids),
    }


def slowest_tests(*, suite: Suite, span: TimeRange | None = None, limit: int = 10) -> list[dict]:
    """The tests with the longest mean duration over the last RECENT_RUNS runs (within
    `span`)."""
    return slowest_tests_in(run_ids=recent_runs(suite=suite, span=span), limit=limit)


def most_failing_tests(
    *, suite: Suite, span: TimeRange | None = None, limit: int = 10
) -> list[dict]:
    """The tests that failed most often over the last RECENT_RUNS runs (within `span`)."""
    return most_failing_tests_in(run_ids=recent_runs(suite=suite, span=span), limit=limit)


def size_against_target(*, suite: Suite, latest: TestRun | None) -> dict | None:
    """ "23 of 1000 = 2.3 %": tests in the latest run against the suite's target count."""
    if not suite.target_test_count:
        return None
    tests = latest.total if latest else 0
    return {
        "tests": tests,
        "target": suite.target_test_count,
        "percent": 100 * tests / suite.target_test_count,
    }


def suite_pass_rate(*, suite: Suite, since: datetime) -> float | None:
    """Pass rate over the suite's finished runs since `since`. One query."""
    return (
        finished_runs(suite=suite)
        .filter(created_at__gte=since)
        .aggregate(rate=run_pass_rate())["rate"]
    )
