"""Compare two runs, or two revisions (their latest finished run of each suite), test by test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

from runs.models import Revision, TestCase, TestResult, TestRun
from runs.selectors.rates import FAILING

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Change(TypedDict):
        change: str

    # A test as outcome_diff returns it: with its change between the two sides annotated.
    ChangedCase = WithAnnotations[TestCase, _Change]

CHANGES = ("newly failing", "newly passing", "other change")


def latest_runs_of(*, revision: Revision) -> QuerySet[TestRun]:
    """The latest finished run of each suite on `revision`."""
    latest = (
        TestRun.objects.filter(
            revision_id=revision.pk, suite_id=OuterRef("suite_id"), status__in=TestRun.FINISHED
        )
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    return TestRun.objects.filter(
        revision_id=revision.pk, status__in=TestRun.FINISHED, pk=Subquery(latest)
    )


def run_counts(runs: QuerySet[TestRun]) -> dict:
    """Summed counts and pass rate of a set of runs. One query."""
    counts = runs.aggregate(
        runs=Count("pk"),
        total=Sum("total"),
        passed=Sum("passed"),
        failed=Sum("failed"),
        errors=Sum("errors"),
        skipped=Sum("skipped"),
        flaky=Sum("flaky"),
        duration=Sum("duration"),
    )
    counted = (counts["passed"] or 0) + (counts["failed"] or 0) + (counts["errors"] or 0)
    counts["pass_rate"] = (counts["passed"] or 0) / counted if counted else None
    return counts


@dataclass(frozen=True)
class Sides:
    """The run ids on each side (one run per suite)."""

    a: list[int]
    b: list[int]


def sides_of(a: QuerySet[TestRun], b: QuerySet[TestRun]) -> Sides:
    """Resolve two sets of runs to their ids. One query."""
    rows = (
        a.order_by()
        .annotate(side=Value("a"))
        .values_list("pk", "side")
        .union(b.order_by().annotate(side=Value("b")).values_list("pk", "side"), all=True)
    )
    ids: dict[str, list[int]] = {"a": [], "b": []}
    for pk, side in rows:
        ids[side].append(pk)
    return Sides(a=ids["a"], b=ids["b"])


def _candidates(sides: Sides, without_passes: Sequence[int] = ()) -> RawSQL:
    """The ids of the tests that can have changed: those present on one side only, and those
    not passed on either. Read from indexes alone: the two sides' (run, case) entries merged,
    and the small partial indexes of failures and other results; a test that passed on both
    sides is never read twice more (bench/pages.py, compare). The runs in `without_passes`
    are left out of the merge: only their failures and other results are candidates."""
    results = TestResult._meta.db_table
    merged_a = [pk for pk in sides.a if pk not in without_passes]
    merged_b = [pk for pk in sides.b if pk not in without_passes]
    a = ", ".join(["%s"] * len(merged_a)) or "NULL"
    b = ", ".join(["%s"] * len(merged_b)) or "NULL"
    both = ", ".join(["%s"] * (len(sides.a) + len(sides.b))) or "NULL"
    sql = (
        f"SELECT COALESCE(ra.case_id, rb.case_id) FROM "  # noqa: S608 (placeholders only)
        f"(SELECT case_id FROM {results} WHERE run_id IN ({a})) ra "
        f"FULL JOIN (SELECT case_id FROM {results} WHERE run_id IN ({b})) rb "
        f"ON ra.case_id = rb.case_id WHERE ra.case_id IS NULL OR rb.case_id IS NULL "
        f"UNION ALL SELECT case_id FROM {results} WHERE run_id IN ({both}) "
        f"AND outcome IN ('failed', 'error') "
        f"UNION ALL SELECT case_id FROM {results} WHERE run_id IN ({both}) "
        f"AND outcome NOT IN ('passed', 'failed', 'error')"
    )
    ids = [*sides.a, *sides.b]
    return RawSQL(sql, [*merged_a, *merged_b, *ids, *ids])  # noqa: S611 (ids are parameters)


def outcome_diff(sides: Sides, *, without_passes: Sequence[int] = ()) -> QuerySet[ChangedCase]:
    """Tests whose outcome differs between side A and side B (present on only one side counts),
    with `a`, `b` and `change` annotated; newly failing first. Lazy: paginate it. Only the
    tests that can have changed are read (_candidates), so a side of 200,000 passes costs an
    index scan, not a probe per test.

    `without_passes`: runs of a suite that has no run on the other side. Each of their tests is
    on one side only, so each pass there is an "other change"; those are left out of the diff
    (the caller counts them from the runs' stored counts) rather than read one by one."""
    on_a = FilteredRelation("results", condition=Q(results__run_id__in=sides.a))
    on_b = FilteredRelation("results", condition=Q(results__run_id__in=sides.b))
    change = Case(
        When(a=F("b"), then=Value("")),
        When(Q(b__in=FAILING) & (Q(a__isnull=True) | ~Q(a__in=FAILING)), then=Value(CHANGES[0])),
        When(Q(a__in=FAILING) & Q(b="passed"), then=Value(CHANGES[1])),
        default=Value(CHANGES[2]),
        output_field=CharField(),
    )
    return (
        TestCase.objects.filter(pk__in=_candidates(sides, without_passes))
        .annotate(on_a=on_a, on_b=on_b)
        .annotate(a=F("on_a__outcome"), b=F("on_b__outcome"))
        .filter(Q(a__isnull=False) | Q(b__isnull=False))
        .annotate(change=change)
        .exclude(change="")
        .order_by("change", "key")
    )


def diff_counts(diff: QuerySet[ChangedCase]) -> dict[str, int]:
    """How many tests changed, per kind of change. One query."""
    counts = dict.fromkeys(CHANGES, 0)
    for row in diff.order_by().values("change").annotate(n=Count("pk")):
        counts[row["change"]] = row["n"]
    return counts


@dataclass(frozen=True)
class OneSided:
    """A suite that ran on one side only, and the passes of its run there (not listed)."""

    suite: str
    side: str  # "A" or "B"
    run_id: int
    passes: int


@dataclass(frozen=True)
class CompareDiff:
    """The tests whose outcome differs (lazy; newly failing first), except the passes of the
    suites that ran on one side only: those are counted from their runs, and named in
    `one_sided`, rather than listed (each would be an "other change" row: 200,000 rows of
    "passed on B, absent on A" tell nothing a sentence does not)."""

    changes: QuerySet[ChangedCase]
    one_sided: list[OneSided]

    @property
    def one_sided_passes(self) -> int:
        return sum(s.passes for s in self.one_sided)

    def counts(self) -> dict[str, int]:
        """How many tests changed, per kind of change, the unlisted passes included. One query."""
        counts = diff_counts(self.changes)
        counts[CHANGES[2]] += self.one_sided_passes
        return counts


def compare_diff(sides: Sides) -> CompareDiff:
    """The changes from side A to side B, reading no pass of a suite run on one side only (its
    failures and other results are still listed, from their small partial indexes). One query
    to read the runs' suites and stored counts."""
    runs = list(
        TestRun.objects.filter(pk__in=[*sides.a, *sides.b])
        .select_related("suite__service")
        .only("pk", "passed", "suite", "suite__name", "suite__service__name")
        .order_by("pk")
    )
    suites_a = {r.suite_id for r in runs if r.pk in sides.a}
    suites_b = {r.suite_id for r in runs if r.pk in sides.b}
    # Against a side without runs outcome_diff compares nothing (as it always has): nor do we.
    one_sided = [
        OneSided(
            suite=str(r.suite), side="A" if r.pk in sides.a else "B", run_id=r.pk, passes=r.passed
        )
        for r in runs
        if sides.a and sides.b and (r.suite_id in suites_a) != (r.suite_id in suites_b)
    ]
    one_sided.sort(key=lambda s: (s.side, s.suite))
    return CompareDiff(
        changes=outcome_diff(sides, without_passes=[s.run_id for s in one_sided]),
        one_sided=one_sided,
    )
