"""Reads for the run page: its results, the comparison with the previous run, signature groups."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
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

from runs.models import TestCase, TestResult, TestRun
from runs.models.testing import Outcome
from runs.selectors.rates import FAILING, OUTCOMES
from runs.selectors.search import case_text_q

COMPARISON_DEFINITION = (
    "Compared with the previous finished run of the suite: new failure = failing now, not before; "
    "still failing = failing in both; fixed = failing before, passing now; "
    "flaky = passed only on a retry in this run."
)
CATEGORIES = ("new", "still", "fixed", "flaky")
# What only a test's key holds, beside its name, class and file: the "::" before the name, the
# separator after a suite name (U+203A), the "#" of a numbered or cut key (junit case_key).
KEY_MARKS = ("::", "\u203a", "#")
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


@dataclass(frozen=True)
class Matches:
    """The ids of a suite's tests a search text matched, read once for the whole run page (its
    result sections and counts) instead of once a query."""

    search: str
    case_ids: list[int]

    def __bool__(self) -> bool:
        return True  # a search was given, even one that matched nothing

    def __str__(self) -> str:
        return self.search


# A page reads the matched ids once when there are at most this many; a broader text (half the
# suite) is matched inside each query instead of sending its ids back and forth.
MATCHES_LISTED = 2_000


def _matching_cases(run: TestRun, search: str) -> QuerySet[TestCase]:
    """The run's suite's tests whose text holds `search`, found through the trigram indexes of
    name, class and file (runs.selectors.search): matching each of a big run's 200,000 tests
    by its text took 0.5-1 s a query (bench/pages.py). The key has no such index (one more
    would slow every import); it is matched only for a key-shaped text, one holding a mark only
    keys hold (KEY_MARKS)."""
    text = case_text_q(search)
    if any(mark in search for mark in KEY_MARKS):
        text |= Q(key__icontains=search)
    return TestCase.objects.filter(suite_id=run.suite_id).filter(text)


def search_matches(*, run: TestRun, search: str) -> Matches | str:
    """What the run page's selectors take as `search`: the matched tests' ids read once (one
    query), or the text itself when it matches more than MATCHES_LISTED tests or is empty."""
    if not search:
        return search
    ids = list(
        _matching_cases(run, search).order_by().values_list("pk", flat=True)[: MATCHES_LISTED + 1]
    )
    return search if len(ids) > MATCHES_LISTED else Matches(search=search, case_ids=ids)


def _filtered(
    *, run: TestRun, outcome: str, search: str | Matches, previous: TestRun | None
) -> QuerySet[TestResult]:
    if outcome and outcome not in OUTCOMES:
        raise BadFilter(
            f"“{outcome}” is not an outcome; use one of {', '.join(OUTCOMES)}, or none for all."
        )
    results = run.results.annotate(before=_before(previous))
    if outcome:
        results = results.filter(outcome=outcome)
    if isinstance(search, Matches):
        results = results.filter(case_id__in=search.case_ids)
    elif search:
        results = results.filter(case_id__in=_matching_cases(run, search).values("pk"))
    return results


# The run page's sections, in the order it lists them: failures, then passes, then the rest
# (skipped). Each is read by its own index scan in test (case id) order: the partial indexes
# result_run_failing / result_run_other, and result_unique_per_run for the passes.
OTHER = ~Q(outcome__in=(Outcome.PASSED, *FAILING))
SECTIONS: tuple[tuple[int, Q], ...] = (
    (0, Q(outcome__in=FAILING)),
    (1, Q(outcome=Outcome.PASSED)),
    (2, OTHER),
)
_CURSOR = re.compile(r"([0-2])\.([0-9]{1,18})")


def _rank(outcome: str) -> int:
    return 0 if outcome in FAILING else 1 if outcome == Outcome.PASSED else 2


def parse_cursor(raw: str) -> tuple[int, int] | None:
    """(section, case id) from a page link's after=/before= value; None when there is none.
    Raises BadFilter for anything a page link does not make."""
    if not raw:
        return None
    match = _CURSOR.fullmatch(raw)
    if not match:
        raise BadFilter(
            f"“{raw[:40]}” is not a place in this list; follow the page links, or open the "
            "first page."
        )
    return int(match[1]), int(match[2])


def _only_filtered(
    *, run: TestRun, outcome: str, search: str | Matches, only: str, previous: TestRun | None
) -> QuerySet[TestResult]:
    if only and only not in ONLY:
        raise BadFilter(
            f"“{only}” is not a filter; use only=new (new failures) or only=flaky, or none for all."
        )
    results = _filtered(run=run, outcome=outcome, search=search, previous=previous)
    if only == "flaky":
        results = results.filter(flaky=True)
    elif only == "new":
        results = results.filter(_new_failure())
    return results


def run_results(
    *,
    run: TestRun,
    outcome: str = "",
    search: str | Matches = "",
    only: str = "",
    previous: TestRun | None = None,
) -> QuerySet[TestResult]:
    """The run's results, failures first, then passed, then skipped, each in test order;
    filtered by outcome, by a piece of the test's name, and to new failures (versus `previous`)
    or flaky results only. Raises BadFilter for an unknown outcome or `only`. The run page reads
    it a page at a time with `run_results_page`."""
    results = _only_filtered(run=run, outcome=outcome, search=search, only=only, previous=previous)
    rank = Case(
        When(outcome__in=FAILING, then=Value(0)),
        When(outcome=Outcome.PASSED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return results.select_related("case").annotate(rank=rank).order_by("rank", "case_id")


@dataclass
class ResultsPage:
    """One page of a run's results, and where the pages before and after it start."""

    results: list[TestResult]
    # The after=/before= values of the links to the next and previous pages; None: no such page.
    # previous == "" means the previous page is the first (a link without a cursor).
    next: str | None
    previous: str | None

    @property
    def object_list(self) -> list[TestResult]:
        return self.results


def _cursor_of(result: TestResult) -> str:
    return f"{_rank(result.outcome)}.{result.case_id}"


def run_results_page(
    *,
    run: TestRun,
    outcome: str = "",
    search: str | Matches = "",
    only: str = "",
    previous: TestRun | None = None,
    after: str = "",
    before: str = "",
    per_page: int = 50,
) -> ResultsPage:
    """A page of `run_results` by keyset: the `per_page` results after the `after` cursor (or
    before the `before` one, or the first), in its order. At most one query per section (three),
    whatever the run's size: no OFFSET, no count. Raises BadFilter for a bad filter or cursor."""
    start_after, end_before = parse_cursor(after), parse_cursor(before)
    results = _only_filtered(
        run=run, outcome=outcome, search=search, only=only, previous=previous
    ).select_related("case")
    sections = [
        (rank, where)
        for rank, where in SECTIONS
        if (not outcome or _rank(outcome) == rank) and (only != "new" or rank == 0)
    ]
    want = per_page + 1
    rows: list[TestResult] = []
    if end_before is not None and start_after is None:
        rank_before, case_before = end_before
        for rank, where in reversed(sections):
            if rank > rank_before:
                continue
            section = results.filter(where)
            if rank == rank_before:
                section = section.filter(case_id__lt=case_before)
            rows.extend(section.order_by("-case_id")[: want - len(rows)])
            if len(rows) >= want:
                break
        if len(rows) < want:  # back at the start: the first page, whole
            return run_results_page(
                run=run,
                outcome=outcome,
                search=search,
                only=only,
                previous=previous,
                per_page=per_page,
            )
        page = rows[:per_page][::-1]
        return ResultsPage(
            results=page,
            next=_cursor_of(page[-1]),
            previous=_cursor_of(page[0]),
        )
    for rank, where in sections:
        if start_after is not None and rank < start_after[0]:
            continue
        section = results.filter(where)
        if start_after is not None and rank == start_after[0]:
            section = section.filter(case_id__gt=start_after[1])
        rows.extend(section.order_by("case_id")[: want - len(rows)])
        if len(rows) >= want:
            break
    page = rows[:per_page]
    return ResultsPage(
        results=page,
        next=_cursor_of(page[-1]) if len(rows) > per_page else None,
        previous=(_cursor_of(page[0]) if page else "") if start_after is not None else None,
    )


def only_counts(
    *, run: TestRun, outcome: str = "", search: str | Matches = "", previous: TestRun | None = None
) -> dict[str, int]:
    """How many of the results the outcome and search filters keep are in each `only` filter,
    and in all. One query, over the run's failures and flaky results only (small partial
    indexes) unless a search is given; "all" comes from the run's stored counts once it has
    passed or failed."""
    # Runs that finished on their own hold their results' counts; others may hold fewer.
    if search or run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED):
        return _filtered(run=run, outcome=outcome, search=search, previous=previous).aggregate(
            all=Count("pk"),
            new=Count("pk", filter=_new_failure()),
            flaky=Count("pk", filter=Q(flaky=True)),
        )
    stored = {
        "": run.total,
        Outcome.PASSED: run.passed,
        Outcome.FAILED: run.failed,
        Outcome.ERROR: run.errors,
        Outcome.SKIPPED: run.skipped,
    }
    counted = (
        _filtered(run=run, outcome=outcome, search="", previous=previous)
        .filter(Q(outcome__in=FAILING) | Q(flaky=True))
        .aggregate(
            new=Count("pk", filter=_new_failure()),
            flaky=Count("pk", filter=Q(flaky=True)),
        )
    )
    return {"all": stored.get(outcome, 0), **counted}


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


def _top_per_category(rows: QuerySet, per_category: int) -> QuerySet:
    return (
        rows.annotate(
            position=Window(RowNumber(), partition_by=[F("category")], order_by=F("case_id").asc()),
            in_category=Window(Count("pk"), partition_by=[F("category")]),
        )
        .filter(position__lte=per_category)
        .values(
            "case_id", "case__name", "case__key", "outcome", "before", "category", "in_category"
        )
    )


def run_comparison(*, run: TestRun, previous: TestRun | None, per_category: int = 20) -> Comparison:
    """New failures, still failing, fixed and flaky tests versus `previous`, with up to
    `per_category` tests of each and the full count of each. Two queries, each reading only
    failures and flaky results (small partial indexes), never a big run's passes: this run's
    failing and flaky results, then the previous run's failures that pass now."""
    if previous is None:
        return Comparison(previous=None, counts=dict.fromkeys(CATEGORIES, 0), tests={})
    before = TestResult.objects.filter(run_id=previous.pk, case_id=OuterRef("case_id")).values(
        "outcome"
    )[:1]
    category = Case(
        When(flaky=True, then=Value("flaky")),
        When(Q(outcome__in=FAILING) & Q(before__in=FAILING), then=Value("still")),
        When(outcome__in=FAILING, then=Value("new")),
        default=Value(""),
        output_field=CharField(),
    )
    here = (
        run.results.filter(Q(outcome__in=FAILING) | Q(flaky=True))
        .annotate(before=Subquery(before))
        .annotate(category=category)
        .exclude(category="")
    )
    now = TestResult.objects.filter(run_id=run.pk, case_id=OuterRef("case_id"))
    # The previous run's failures that pass now (not on a retry): its rows, "before" is theirs.
    fixed = (
        TestResult.objects.filter(run_id=previous.pk, outcome__in=FAILING)
        .filter(Exists(now.filter(outcome=Outcome.PASSED, flaky=False)))
        .annotate(
            position=Window(RowNumber(), order_by=F("case_id").asc()),
            in_category=Window(Count("pk")),
        )
        .filter(position__lte=per_category)
        .values("case_id", "case__name", "case__key", "outcome", "in_category")
    )
    counts = dict.fromkeys(CATEGORIES, 0)
    tests: dict[str, list[ComparedTest]] = {c: [] for c in CATEGORIES}
    for row in _top_per_category(here, per_category):
        counts[row["category"]] = row["in_category"]
        tests[row["category"]].append(
            ComparedTest(
                row["case_id"], row["case__name"], row["case__key"], row["outcome"], row["before"]
            )
        )
    for row in fixed:
        counts["fixed"] = row["in_category"]
        tests["fixed"].append(
            ComparedTest(
                row["case_id"], row["case__name"], row["case__key"], Outcome.PASSED, row["outcome"]
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
