"""Reality check: signs that a green suite tests nothing.

- a run whose tests took almost no time in total (under 1 ms per test on average);
- a run that finished implausibly fast for its test count (under 1 ms of wall time per test);
- tests that passed in the run looked at, and have never failed and never took more than 1 ms
  in any run of their history.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum, Window

from runs.models import Suite, TestCase, TestResult, TestRun
from runs.services.reality import TRIVIAL_SECONDS


@dataclass(frozen=True)
class Flag:
    what: str
    reason: str


def trivial_cases(*, run: TestRun) -> QuerySet[TestCase]:
    """Tests that passed in `run` and, across their whole history, never failed and never took
    more than TRIVIAL_SECONDS (TestCase.ever_real, kept by runs.services.reality)."""
    passed_here = TestResult.objects.filter(run=run, case=OuterRef("pk"), outcome="passed")
    return (
        TestCase.objects.filter(suite_id=run.suite_id, ever_real=False)
        .filter(Exists(passed_here))
        .order_by("key")
    )


def _trivial_flag(cases: QuerySet[TestCase], limit: int) -> tuple[list[Flag], list[TestCase]]:
    shown = list(cases.annotate(total=Window(Count("pk")))[:limit])
    if not shown:
        return [], []
    total = shown[0].total
    flag = Flag(
        what=f"{total} test{'s' if total != 1 else ''} never failed and never took more than "
        f"{TRIVIAL_SECONDS * 1000:g} ms",
        reason="A test that always passes in no time may assert nothing or never reach the "
        "service.",
    )
    return [flag], shown


def run_flags(*, run: TestRun, limit: int = 20) -> tuple[list[Flag], list[TestCase]]:
    """Flags for one run, and up to `limit` of its trivial tests. Two queries."""
    flags: list[Flag] = []
    totals = run.results.exclude(outcome="skipped").aggregate(
        tests=Count("pk"), seconds=Sum("duration")
    )
    tests, seconds = totals["tests"], totals["seconds"] or 0.0
    if tests and seconds < TRIVIAL_SECONDS * tests:
        flags.append(
            Flag(
                what=f"The {tests} tests of this run took {seconds * 1000:.2f} ms in total",
                reason="Real end-to-end tests against a deployed service take time; these may "
                "not be doing anything.",
            )
        )
    if run.total and run.finished_at and 0 <= run.duration < TRIVIAL_SECONDS * run.total:
        flags.append(
            Flag(
                what=f"The run finished {run.total} tests in {run.duration * 1000:.2f} ms",
                reason="That is under 1 ms of wall time per test: implausibly fast.",
            )
        )
    trivial, shown = _trivial_flag(trivial_cases(run=run), limit)
    return flags + trivial, shown


def suite_flags(
    *, suite: Suite, latest: TestRun | None, limit: int = 20
) -> tuple[list[Flag], list[TestCase]]:
    """Flags for a suite from its latest run (its speed, the trivial tests that passed in it) and
    up to `limit` trivial tests. One query."""
    flags: list[Flag] = []
    if latest and latest.total and 0 <= latest.duration < TRIVIAL_SECONDS * latest.total:
        flags.append(
            Flag(
                what=f"The latest run finished {latest.total} tests in "
                f"{latest.duration * 1000:.2f} ms",
                reason="A suite this size cannot really run against staging that fast.",
            )
        )
    if latest is None:
        return flags, []
    trivial, shown = _trivial_flag(trivial_cases(run=latest), limit)
    return flags + trivial, shown
