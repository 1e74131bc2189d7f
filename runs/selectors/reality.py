"""Reality check: signs that a green suite tests nothing.

- a run whose tests took almost no time in total (under 1 ms per test on average);
- a run that finished implausibly fast for its test count (under 1 ms of wall time per test);
- tests that passed in the run looked at, and have never failed and never took more than 1 ms
  in any run of their history, once that history is long enough to say so: at least
  settings.REALITY_MIN_RUNS runs of the test. Before that the page says "not enough history".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Window,
)

from runs.models import Suite, TestCase, TestResult, TestRun
from runs.models.testing import TRIVIAL_SECONDS


@dataclass(frozen=True)
class Flag:
    what: str
    reason: str
    info: bool = False  # a note about what could not be judged, not a sign of trouble


def min_runs() -> int:
    """How many runs of a test the reality check needs before it judges that test."""
    return settings.REALITY_MIN_RUNS


def _history(run: TestRun) -> QuerySet[TestResult]:
    """The outer test case's results up to `run` that say something: a skip proves nothing."""
    return (
        TestResult.objects.filter(case=OuterRef("pk"), run_id__lte=run.pk)
        .exclude(outcome="skipped")
        .order_by()
    )


def _runs_of_case_up_to(run: TestRun, at_least: int) -> Exists:
    """Whether the outer test case ran (not skipped) in at least `at_least` runs up to `run`: the
    `at_least`-th row exists (reads at most that many index entries, whatever the history)."""
    results = _history(run)
    return Exists(results[at_least - 1 : at_least])


def trivial_cases(*, run: TestRun, judged: bool = True) -> QuerySet[TestCase]:
    """Tests that passed in `run` and, across their whole history, never failed and never took
    more than TRIVIAL_SECONDS (TestCase.ever_real, kept by runs.services.reality); with `judged`
    only those with at least min_runs() runs up to `run`, else only those with fewer."""
    passed_here = TestResult.objects.filter(run=run, case=OuterRef("pk"), outcome="passed")
    enough = _runs_of_case_up_to(run, min_runs())
    return (
        TestCase.objects.filter(suite_id=run.suite_id, ever_real=False)
        .filter(Exists(passed_here))
        .filter(enough if judged else ~enough)
        .order_by("key")
    )


def _suite_runs_up_to(run: TestRun, cap: int) -> int:
    """Finished runs of the run's suite up to it, counted no further than `cap`."""
    runs = TestRun.objects.filter(
        suite_id=run.suite_id, pk__lte=run.pk, status__in=TestRun.FINISHED
    )
    return runs.order_by()[:cap].count()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _trivial_flag(run: TestRun, limit: int) -> tuple[list[Flag], Sequence[TestCase]]:
    """The idle-test flag with up to `limit` tests, each with the figures behind its verdict, or
    a note that the history is too short. Two queries, or one when the suite itself is young."""
    needs = min_runs()
    seen = _suite_runs_up_to(run, needs)
    if seen < needs:
        return [
            Flag(
                what=f"Tests are not judged yet: not enough history ({seen} of {needs} runs)",
                reason=f"A test is flagged as possibly testing nothing only after {needs} runs "
                "of it; one run cannot tell an idle test from a fast one.",
                info=True,
            )
        ], []
    history = _history(run)
    shown = list(
        trivial_cases(run=run).annotate(
            total=Window(Count("pk")),
            runs_seen=Subquery(
                history.values("case").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            longest=Subquery(history.values("case").annotate(m=Max("duration")).values("m")),
        )[:limit]
    )
    young = trivial_cases(run=run, judged=False).count()
    flags = []
    if shown:
        total = shown[0].total
        flags.append(
            Flag(
                what=f"{_plural(total, 'test')} never failed and never took more than "
                f"{TRIVIAL_SECONDS * 1000:g} ms in {needs} or more runs",
                reason="A test that always passes in no time may assert nothing or never reach "
                "the service. Each is listed with the runs it was judged on.",
            )
        )
        for case in shown:
            case.reality_reason = (
                f"passed in all {case.runs_seen} of its runs, never failed, "
                f"longest {(case.longest or 0) * 1000:.2f} ms"
            )
    if young:
        flags.append(
            Flag(
                what=f"{_plural(young, 'test')} that look{'s' if young == 1 else ''} idle "
                f"{'has' if young == 1 else 'have'} fewer than {needs} runs",
                reason=f"They are judged once they have {needs} runs of their own.",
                info=True,
            )
        )
    return flags, shown


# How many of a run's results the idle-run check sums before it knows the run took real time.
TIME_SAMPLE = 2000


def _time_in_tests(run: TestRun) -> tuple[int, float]:
    """How many tests of `run` ran (not skipped), and their summed duration: exact, or, when the
    first TIME_SAMPLE results already sum past TRIVIAL_SECONDS per test, that partial sum (the
    check below only needs to know it is past). A 200,000-result run is summed in full only
    when its tests really took no time. One query, two for such a run."""
    if run.status in (TestRun.Status.PASSED, TestRun.Status.FAILED):
        tests = run.total - run.skipped  # a run that finished on its own holds its counts
        ran = run.results.exclude(outcome="skipped").order_by("case_id")[:TIME_SAMPLE]
        sample = ran.aggregate(seconds=Sum("duration"))["seconds"] or 0.0
        if sample >= TRIVIAL_SECONDS * tests or tests <= TIME_SAMPLE:
            return tests, sample
    totals = run.results.exclude(outcome="skipped").aggregate(
        tests=Count("pk"), seconds=Sum("duration")
    )
    return totals["tests"], totals["seconds"] or 0.0


def run_flags(*, run: TestRun, limit: int = 20) -> tuple[list[Flag], Sequence[TestCase]]:
    """Flags for one run, and up to `limit` of its trivial tests with why each is flagged.
    At most four queries."""
    flags: list[Flag] = []
    tests, seconds = _time_in_tests(run)
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
    trivial, shown = _trivial_flag(run, limit)
    return flags + trivial, shown


def suite_flags(
    *, suite: Suite, latest: TestRun | None, limit: int = 20
) -> tuple[list[Flag], Sequence[TestCase]]:
    """Flags for a suite from its latest run (its speed, the trivial tests that passed in it) and
    up to `limit` trivial tests with why each is flagged. At most three queries."""
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
    trivial, shown = _trivial_flag(latest, limit)
    return flags + trivial, shown
