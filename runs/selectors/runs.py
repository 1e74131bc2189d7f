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


class BadFilter(ValueError):
    """A filter value the page does not know; the message is a sentence for the user."""


def run_get(*, pk: int) -> TestRun:
    return TestRun.objects.select_related("suite", "service", "revision", "deploy").get(pk=pk)


def run_results(*, run: TestRun, outcome: str = "", search: str = "") -> QuerySet[TestResult]:
    """The run's results, failures first, then passed, then skipped; filtered by outcome and by a
    piece of the test's name. Raises BadFilter for an unknown outcome."""
    if outcome and outcome not in OUTCOMES:
        raise BadFilter(
            f"“{outcome}” is not an outcome; use one of {', '.join(OUTCOMES)}, or none for all."
        )
    results = run.results.select_related("case")
    if outcome:
        results = results.filter(outcome=outcome)
    if search:
        results = results.filter(Q(case__name__icontains=search) | Q(case__key__icontains=search))
    rank = Case(
        When(outcome__in=FAILING, then=Value(0)),
        When(outcome="passed", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return results.annotate(rank=rank).order_by("rank", "case__key")


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
