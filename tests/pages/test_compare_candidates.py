"""The comparison reads only the tests that can have changed, and finds what reading every test
of the compared suites found, for every pair of outcomes, in a constant number of queries."""

from __future__ import annotations

from itertools import product

import pytest
from django.db.models import Case, CharField, F, FilteredRelation, Q, Value, When

from runs.models import TestCase, TestRun
from runs.selectors import compare
from runs.selectors.rates import FAILING
from tests.factories import CaseFactory, SuiteFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db

OUTCOMES = ("passed", "failed", "error", "skipped", None)  # None: the test did not run


def _every_test_of_the_suites(sides: compare.Sides):
    """The comparison as it was before: every test of the compared suites, joined to each side."""
    on_a = FilteredRelation("results", condition=Q(results__run_id__in=sides.a))
    on_b = FilteredRelation("results", condition=Q(results__run_id__in=sides.b))
    change = Case(
        When(a=F("b"), then=Value("")),
        When(
            Q(b__in=FAILING) & (Q(a__isnull=True) | ~Q(a__in=FAILING)),
            then=Value(compare.CHANGES[0]),
        ),
        When(Q(a__in=FAILING) & Q(b="passed"), then=Value(compare.CHANGES[1])),
        default=Value(compare.CHANGES[2]),
        output_field=CharField(),
    )
    suites = TestRun.objects.filter(pk__in=[*sides.a, *sides.b]).values("suite_id")
    return (
        TestCase.objects.filter(suite_id__in=suites)
        .annotate(on_a=on_a, on_b=on_b)
        .annotate(a=F("on_a__outcome"), b=F("on_b__outcome"))
        .filter(Q(a__isnull=False) | Q(b__isnull=False))
        .annotate(change=change)
        .exclude(change="")
        .order_by("change", "key")
    )


def _rows(diff) -> list[tuple]:
    return [(row.pk, row.a, row.b, row.change) for row in diff]


@pytest.fixture
def two_suites_every_pair():
    """Two suites; in each, one test per pair of outcomes (side A, side B), and a passing one."""
    runs: dict[str, list[TestRun]] = {"a": [], "b": []}
    for _ in range(2):
        suite = SuiteFactory()
        pairs = {CaseFactory(suite=suite): pair for pair in product(OUTCOMES, OUTCOMES)}
        pairs[CaseFactory(suite=suite)] = ("passed", "passed")
        for side, index in (("a", 0), ("b", 1)):
            outcomes = {case: pair[index] for case, pair in pairs.items() if pair[index]}
            runs[side].append(make_run(suite, outcomes))
    return compare.Sides(a=[r.pk for r in runs["a"]], b=[r.pk for r in runs["b"]])


def test_it_finds_every_change_that_reading_every_test_found(two_suites_every_pair):
    sides = two_suites_every_pair

    diff = compare.outcome_diff(sides)

    # 25 pairs per suite: 5 unchanged (the same outcome twice, or never run), 20 changed.
    assert len(_rows(diff)) == 2 * 20
    assert _rows(diff) == _rows(_every_test_of_the_suites(sides))
    assert compare.diff_counts(diff) == compare.diff_counts(_every_test_of_the_suites(sides))


def test_it_compares_one_run_with_another_too(two_suites_every_pair):
    sides = compare.Sides(a=two_suites_every_pair.a[:1], b=two_suites_every_pair.b[:1])

    assert _rows(compare.outcome_diff(sides)) == _rows(_every_test_of_the_suites(sides))


def test_a_side_without_runs_gives_what_reading_every_test_gave(two_suites_every_pair):
    sides = compare.Sides(a=[], b=two_suites_every_pair.b)

    assert _rows(compare.outcome_diff(sides)) == _rows(_every_test_of_the_suites(sides))


def test_its_query_count_does_not_grow_with_the_tests(
    two_suites_every_pair, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        diff = compare.outcome_diff(two_suites_every_pair)
        list(diff[:10])
        compare.diff_counts(diff)
