"""Reads for the run page: its results, the comparison with the previous run, signature groups."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from runs.models import TestResult, TestRun
from runs.selectors.rates import FAILING, OUTCOMES

COMPARISON_DEFINITION = (
    "Compared with the previous finished run of the suite: new failure = failing now, not before; "
    "still failing = failing in both; fixed = failing before, passing now; "
    "flaky = passed only on a retry in this run."
)
CATEGORIES = ("new", "still", "fixed", "flaky")
# The run page's "only" filters, with the same definitions as the comparison above.
ONLY = ("new", "flaky")
ONLY_DEFINITION = (
    "Flaky only = results that passed only on a retry in this run. New failures only = failing "
    "(failed or error) in this run but not in the previous finished run of the suite; with no "
    "previous run, every failure is new."
)


class BadFilter(ValueError):
    """A filter value the page does not know; the message is a sentence for the user."""


def run_get(*, pk: int) -> TestRun:
    return TestRun.objects.select_related("suite", "service", "revision", "deploy").get(pk=pk)


def _before(previous: TestRun | None) -> Subquery | Value:
    """The test's outcome in `previous` (NULL when absent), per result row."""
    if previous is None:
        return Value(None, output_field=CharField())
    return Subquery(
        TestResult.objects.filter(run_id=previous.pk, case_id=OuterRef("case_id")).values(
            "outcome"
        )[:1]
    )


def _new_failure(before_field: str = "before") -> Q:
    return (
        Q(outcome__in=FAILING)
        & Q(flaky=False)
        & (Q(**{f"{before_field}__isnull": True}) | ~Q(**{f"{before_field}__in": FAILING}))
    )


def _filtered(
    *, run: TestRun, outcome: str, search: str, previous: TestRun | None
) -> QuerySet[TestResult]:
    if outcome and outcome not in OUTCOMES:
        raise BadFilter(
            f"“{outcome}” is not an outcome; use one of {', '.join(OUTCOMES)}, or none for all."
        )
    results = run.results.annotate(before=_before(previous))
    if outcome:
        results = results.filter(outcome=outcome)
    if search:
        results = results.filter(Q(case__name__icontains=search) | Q(case__key__icontains=search))
    return results


def run_results(
    *,
    run: TestRun,
    outcome: str = "",
    search: str = "",
    only: str = "",
    previous: TestRun | None = None,
) -> QuerySet[TestResult]:
    """The run's results, failures first, then passed, then skipped; filtered by outcome, by a
    piece of the test's name, and to new failures (versus `previous`) or flaky results only.
    Raises BadFilter for an unknown outcome or `only`."""
    if only and only not in ONLY:
        raise BadFilter(
            f"“{only}” is not a filter; use only=new (new failures) or only=flaky, or none for all."
        )
    results = _filtered(run=run, outcome=outcome, search=search, previous=previous)
    if only == "flaky":
        results = results.filter(flaky=True)
    elif only == "new":
        results = results.filter(_new_failure())
    rank = Case(
        When(outcome__in=FAILING, then=Value(0)),
        When(outcome="passed", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return results.select_related("case").annotate(rank=rank).order_by("rank", "case__key")


def only_counts(
    *, run: TestRun, outcome: str = "", search: str = "", previous: TestRun | None = None
) -> dict[str, int]:
    """How many of the results the outcome and search filters keep are in each `only` filter,
    and in all. One query."""
    return _filtered(run=run, outcome=outcome, search=search, previous=previous).aggregate(
        all=Count("pk"),
        new=Count("pk", filter=_new_failure()),
        flaky=Count("pk", filter=Q(flaky=True)),
    )


def previous_run(*, run: TestRun) -> TestRun | None:
    """The suite's finished run just before this one."""
    return (
        TestRun.objects.filter(suite_id=run.suite_id, status__in=TestRun.FINISHED)
        .filter(Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, pk__lt=run.pk))
        .select_related("revision")
        .order_by("-created_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ComparedTest:
    case_id: int
    name: str
    key: str
    outcome: str
    previous: str | None


@dataclass
class Comparison:
    previous: TestRun | None
    counts: dict[str, int]
    tests: dict[str, list[ComparedTest]]


def run_comparison(*, run: TestRun, previous: TestRun | None, per_category: int = 20) -> Comparison:
    """New failures, still failing, fixed and flaky tests versus `previous`, with up to
    `per_category` tests of each and the full count of each. One query."""
    if previous is None:
        return Comparison(previous=None, counts=dict.fromkeys(CATEGORIES, 0), tests={})
    before = TestResult.objects.filter(run_id=previous.pk, case_id=OuterRef("case_id")).values(
        "outcome"
    )[:1]
    category = Case(
        When(flaky=True, then=Value("flaky")),
        When(Q(outcome__in=FAILING) & Q(before__in=FAILING), then=Value("still")),
        When(outcome__in=FAILING, then=Value("new")),
        When(Q(outcome="passed") & Q(before__in=FAILING), then=Value("fixed")),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        run.results.annotate(before=Subquery(before))
        .annotate(category=category)
        .exclude(category="")
        .annotate(
            position=Window(RowNumber(), partition_by=[F("category")], order_by=F("case_id").asc()),
            in_category=Window(Count("pk"), partition_by=[F("category")]),
        )
        .filter(position__lte=per_category)
        .values(
            "case_id", "case__name", "case__key", "outcome", "before", "category", "in_category"
        )
    )
    counts = dict.fromkeys(CATEGORIES, 0)
    tests: dict[str, list[ComparedTest]] = {c: [] for c in CATEGORIES}
    for row in rows:
        counts[row["category"]] = row["in_category"]
        tests[row["category"]].append(
            ComparedTest(
                row["case_id"], row["case__name"], row["case__key"], row["outcome"], row["before"]
            )
        )
    return Comparison(previous=previous, counts=counts, tests=tests)


def signature_groups(*, run: TestRun, limit: int = 20) -> list[dict]:
    """The run's failures grouped by signature, biggest group first, each with its signature's
    triage; failures without a signature form one group. One query."""
    return list(
        run.results.filter(outcome__in=FAILING)
        .values(
            "signature_id",
            "signature__normalized",
            "signature__kind",
            "signature__triage",
            "signature__triage_analysis_id",
            "signature__triage_analysis__title",
            "signature__triage_comment",
        )
        .annotate(tests=Count("pk"), example=Min("message"))
        .order_by("-tests", "signature_id")[:limit]
    )
