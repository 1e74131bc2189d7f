"""Test figures of the summary: runs, pass rate now, over the period and its trend, suite size.

A pooled pass rate weighs each suite by its test count, so one big green suite can hide several
small red ones. Every pooled rate therefore comes with how many suites are green and with each
suite's own rate, right after it.
"""

from __future__ import annotations

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse

from reports.figures import Figure, Point
from reports.numbers import (
    MIN_RUNS_PASS_RATE,
    MIN_RUNS_PASS_RATE_NOW,
    MIN_RUNS_PER_HALF_TREND,
    not_enough,
    percent_text,
    points_text,
)
from reports.scope import Scope
from reports.selectors.common import evidence_url
from runs.models import Suite, TestRun

COMPLETED = (TestRun.Status.PASSED, TestRun.Status.FAILED, TestRun.Status.ERROR)
COUNTED = F("passed") + F("failed") + F("errors")
RATE_DEFINITION = "passed / (passed + failed + errors) over {what}; skipped tests excluded"


def completed_runs(scope: Scope):
    runs = TestRun.objects.filter(
        status__in=COMPLETED, created_at__gte=scope.start_dt, created_at__lt=scope.end_dt
    )
    return scope.filter(runs)


def _rate_figure(key, label, passed, counted, runs, needs, url, what) -> Figure:
    if runs < needs or not counted:
        text, value, enough = not_enough(runs, "runs", needs), None, False
    else:
        text, value, enough = percent_text(passed, counted), passed / counted, True
    return Figure(
        key=key,
        label=label,
        text=text,
        value=value,
        unit="%",
        n=runs,
        enough=enough,
        evidence_url=url,
        definition=RATE_DEFINITION.format(what=what),
    )


def test_figures(scope: Scope) -> list[Figure]:
    """Runs, pass rates (pooled, then per suite), green suites and trend in five queries; suite
    sizes in one more."""
    mid = scope.mid_dt
    first, second = Q(created_at__lt=mid), Q(created_at__gte=mid)
    t = completed_runs(scope).aggregate(
        runs=Count("pk"),
        failing=Count("pk", filter=~Q(status=TestRun.Status.PASSED)),
        n_passed=Sum("passed"),
        n_counted=Sum(COUNTED),
        n_runs_1=Count("pk", filter=first),
        n_passed_1=Sum("passed", filter=first),
        n_counted_1=Sum(COUNTED, filter=first),
        n_runs_2=Count("pk", filter=second),
        n_passed_2=Sum("passed", filter=second),
        n_counted_2=Sum(COUNTED, filter=second),
    )
    runs_url = evidence_url(scope, "runs")
    figures = [
        Figure(
            key="tests.runs",
            label="Test runs",
            text=str(t["runs"]),
            value=t["runs"],
            unit="runs",
            n=t["runs"],
            enough=True,
            evidence_url=runs_url,
            definition="finished runs (passed, failed or error) started in the period",
        ),
        Figure(
            key="tests.failing_runs",
            label="Runs with failures",
            text=str(t["failing"]),
            value=t["failing"],
            unit="runs",
            n=t["runs"],
            enough=True,
            evidence_url=evidence_url(scope, "runs", status="failing"),
            definition="finished runs whose status is failed or error",
        ),
    ]
    figures += _pass_rate_now(scope, runs_url)
    figures.append(
        _rate_figure(
            "tests.pass_rate",
            "Pass rate over the period, all suites pooled",
            t["n_passed"] or 0,
            t["n_counted"] or 0,
            t["runs"],
            MIN_RUNS_PASS_RATE,
            runs_url,
            "every finished run of the period",
        )
    )
    figures += _pass_rate_per_suite(scope)
    figures.append(_trend(t, runs_url))
    figures += suite_size_figures(scope)
    return figures


def _suite_name(row: dict) -> str:
    demo = " (demo data)" if row["service__is_demo"] else ""
    return f"{row['service__name']} / {row['suite__name']}{demo}"


def _pass_rate_now(scope: Scope, url: str) -> list[Figure]:
    """Suites green now, the pooled pass rate of each suite's latest run, then each suite's own.
    Three queries."""
    latest = Subquery(
        TestRun.objects.filter(
            suite=OuterRef("pk"), status__in=COMPLETED, created_at__lt=scope.end_dt
        )
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    suites = scope.filter(Suite.objects.all())
    latest_runs = TestRun.objects.filter(pk__in=suites.annotate(last=latest).values("last"))
    t = latest_runs.aggregate(
        runs=Count("pk"),
        green=Count("pk", filter=Q(status=TestRun.Status.PASSED)),
        n_passed=Sum("passed"),
        n_counted=Sum(COUNTED),
    )
    if t["runs"]:
        green_text, green_value = f"{t['green']} of {t['runs']}", t["green"] / t["runs"]
    else:
        green_text, green_value = not_enough(0, "runs", MIN_RUNS_PASS_RATE_NOW), None
    figures = [
        Figure(
            key="tests.suites_green",
            label="Suites green now",
            text=green_text,
            value=green_value,
            unit="suites",
            n=t["runs"],
            enough=bool(t["runs"]),
            evidence_url=url,
            definition="suites whose latest finished run up to the end of the period passed, "
            "of the suites with a finished run",
        ),
        _rate_figure(
            "tests.pass_rate_now",
            "Pass rate now, all suites pooled",
            t["n_passed"] or 0,
            t["n_counted"] or 0,
            t["runs"],
            MIN_RUNS_PASS_RATE_NOW,
            url,
            "the latest finished run of each suite up to the end of the period, pooled (a big "
            "suite weighs more: see each suite's own rate below)",
        ),
    ]
    rows = (
        latest_runs.annotate(counted=COUNTED)
        .values(
            "pk",
            "suite_id",
            "suite__name",
            "service__name",
            "service__is_demo",
            "status",
            "passed",
            "counted",
        )
        .order_by("service__name", "suite__name")
    )
    for row in rows:
        figures.append(
            _rate_figure(
                f"tests.pass_rate_now.{row['suite_id']}",
                f"Pass rate now: {_suite_name(row)}",
                row["passed"],
                row["counted"],
                1,
                MIN_RUNS_PASS_RATE_NOW,
                reverse("run-detail", args=[row["pk"]]),
                f"this suite's latest finished run (run #{row['pk']}, {row['status']})",
            )
        )
    return figures


def _pass_rate_per_suite(scope: Scope) -> list[Figure]:
    """Each suite's own pass rate over the period, with the same minimum of runs. One query."""
    rows = (
        completed_runs(scope)
        .values("suite_id", "suite__name", "service__name", "service__is_demo")
        .annotate(runs=Count("pk"), n_passed=Sum("passed"), n_counted=Sum(COUNTED))
        .order_by("service__name", "suite__name")
    )
    return [
        _rate_figure(
            f"tests.pass_rate.{row['suite_id']}",
            f"Pass rate over the period: {_suite_name(row)}",
            row["n_passed"] or 0,
            row["n_counted"] or 0,
            row["runs"],
            MIN_RUNS_PASS_RATE,
            evidence_url(scope, "runs", suite=row["suite_id"]),
            "this suite's finished runs of the period",
        )
        for row in rows
    ]


def _trend(t: dict, url: str) -> Figure:
    runs = min(t["n_runs_1"], t["n_runs_2"])
    enough = runs >= MIN_RUNS_PER_HALF_TREND and t["n_counted_1"] and t["n_counted_2"]
    if enough:
        # Exact in integers: 100 * (p2/c2 - p1/c1), truncated by points_text.
        value = (
            100
            * (t["n_passed_2"] * t["n_counted_1"] - t["n_passed_1"] * t["n_counted_2"])
            / (t["n_counted_1"] * t["n_counted_2"])
        )
        text = points_text(value)
    else:
        value, text = None, not_enough(runs, "runs in the thinner half", MIN_RUNS_PER_HALF_TREND)
    return Figure(
        key="tests.pass_rate_trend",
        label="Pass-rate trend",
        text=text,
        value=value,
        unit="pp",
        n=t["runs"],
        enough=bool(enough),
        evidence_url=url,
        definition="pass rate of the second half of the period minus the first half's",
    )


def suite_size_figures(scope: Scope) -> list[Figure]:
    """For each suite with a target size: tests in its latest run against the target."""
    latest_total = Subquery(
        TestRun.objects.filter(
            suite=OuterRef("pk"), status__in=COMPLETED, created_at__lt=scope.end_dt
        )
        .order_by("-created_at", "-pk")
        .values("total")[:1]
    )
    suites = (
        scope.filter(Suite.objects.filter(target_test_count__gt=0))
        .select_related("service")
        .annotate(size=latest_total)
        .order_by("service__name", "name")
    )
    figures = []
    for suite in suites:
        if suite.size is None:
            text, value, enough = not_enough(0, "runs", 1), None, False
        else:
            share = percent_text(suite.size, suite.target_test_count)
            text = f"{suite.size} of {suite.target_test_count} tests ({share})"
            value, enough = suite.size / suite.target_test_count, True
        figures.append(
            Figure(
                key=f"tests.suite_size.{suite.pk}",
                label=f"Suite size: {suite}",
                text=text,
                value=value,
                unit="of target",
                n=0 if suite.size is None else 1,
                enough=enough,
                evidence_url=suite.get_absolute_url(),
                definition="tests in the suite's latest finished run / its target size",
            )
        )
    return figures


def pass_rate_daily(scope: Scope) -> list[Point]:
    """One point per day with runs: that day's pass rate (for the trend chart)."""
    rows = (
        completed_runs(scope)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n_passed=Sum("passed"), n_counted=Sum(COUNTED), runs=Count("pk"))
        .order_by("day")
    )
    return [
        Point(
            x=r["day"],
            y=(r["n_passed"] / r["n_counted"]) if r["n_counted"] else None,
            label=str(r["runs"]),
        )
        for r in rows
    ]
