"""Selectors against known data: pass rates, comparisons, flakiness, broken-since, signatures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import FailureSignature
from runs.selectors import cases as case_selectors
from runs.selectors import compare, flaky, suites
from runs.selectors import revisions as revision_selectors
from runs.selectors import runs as run_selectors
from runs.selectors.overview import service_cards
from tests.factories import CaseFactory, SuiteFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


def test_it_excludes_skipped_tests_from_the_pass_rate(suite, cases, at):
    a, b, c, d = cases
    run = make_run(suite, {a: "passed", b: "passed", c: "failed", d: "skipped"}, at=at(0))
    make_run(suite, {a: "passed", b: "error", c: "skipped", d: "skipped"}, at=at(1))

    series = suites.run_series(runs=suites.finished_runs(suite=suite))

    assert run.pass_rate == pytest.approx(2 / 3)
    assert series.bucket == "run"
    assert [p.pass_rate for p in series.points] == [pytest.approx(2 / 3), pytest.approx(1 / 2)]


def test_it_aggregates_the_series_by_day_in_sql_when_runs_exceed_the_point_budget(suite, cases):
    a, b, *_ = cases
    base = timezone.now().replace(hour=1, minute=0) - timedelta(days=3)
    for hour in range(3):
        make_run(suite, {a: "passed", b: "failed"}, at=base + timedelta(hours=hour))
    for hour in range(2):
        make_run(suite, {a: "passed", b: "passed"}, at=base + timedelta(days=1, hours=hour))

    series = suites.run_series(runs=suites.finished_runs(suite=suite), max_points=4)

    assert series.bucket == "day"
    assert [p.runs for p in series.points] == [3, 2]
    assert [p.pass_rate for p in series.points] == [pytest.approx(0.5), pytest.approx(1.0)]


def test_it_rates_each_revision_over_all_its_runs(suite, cases, revisions, at):
    a, b, *_ = cases
    make_run(suite, {a: "passed", b: "failed"}, revision=revisions[0], at=at(0))
    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[0], at=at(1))
    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[1], at=at(2))

    rows = suites.revision_rates(suite=suite)

    assert [(r["revision__name"], r["runs"]) for r in rows] == [("web-00000", 2), ("web-00001", 1)]
    assert rows[0]["rate"] == pytest.approx(0.75)
    assert rows[1]["rate"] == pytest.approx(1.0)


def test_it_states_size_against_the_target_count(suite, cases, at):
    run = make_run(suite, {c: "passed" for c in cases}, at=at(0))

    size = suites.size_against_target(suite=suite, latest=run)

    assert size == {"tests": 4, "target": 40, "percent": pytest.approx(10.0)}


def test_it_compares_a_run_with_the_previous_run_of_its_suite(suite, cases, at):
    a, b, c, d = cases
    previous = make_run(suite, {a: "passed", b: "failed", c: "error", d: "passed"}, at=at(0))
    now = {a: "failed", b: "failed", c: "passed", d: "passed"}
    run = make_run(suite, now, at=at(1), flaky=(d,))

    found = run_selectors.previous_run(run=run)
    comparison = run_selectors.run_comparison(run=run, previous=found)

    assert found == previous
    assert comparison.counts == {"new": 1, "still": 1, "fixed": 1, "flaky": 1}
    assert [t.case_id for t in comparison.tests["new"]] == [a.pk]
    assert [t.case_id for t in comparison.tests["still"]] == [b.pk]
    assert [t.case_id for t in comparison.tests["fixed"]] == [c.pk]
    assert [t.case_id for t in comparison.tests["flaky"]] == [d.pk]
    assert comparison.tests["fixed"][0].previous == "error"


def test_it_counts_every_comparison_category_but_lists_only_the_first_few(suite, at):
    many = [CaseFactory(suite=suite) for _ in range(5)]
    previous = make_run(suite, dict.fromkeys(many, "passed"), at=at(0))
    run = make_run(suite, dict.fromkeys(many, "failed"), at=at(1))

    comparison = run_selectors.run_comparison(run=run, previous=previous, per_category=2)

    assert comparison.counts["new"] == 5
    assert len(comparison.tests["new"]) == 2


def test_it_treats_the_first_run_as_having_nothing_to_compare(suite, cases, at):
    run = make_run(suite, {cases[0]: "failed"}, at=at(0))

    assert run_selectors.previous_run(run=run) is None
    assert run_selectors.run_comparison(run=run, previous=None).counts["new"] == 0


def test_it_groups_failures_by_signature_biggest_first(suite, cases, at):
    a, b, c, d = cases
    refused = FailureSignature.objects.create(
        suite=suite, kind="error", hash="h1", normalized="connection refused to <ip>:<port>"
    )
    run = make_run(
        suite,
        {a: "error", b: "error", c: "error", d: "failed"},
        signatures={a: refused, b: refused, c: refused},
        messages={d: "assert 1 == 2"},
        at=at(0),
    )

    groups = run_selectors.signature_groups(run=run)

    assert [(g["tests"], g["signature__normalized"]) for g in groups] == [
        (3, "connection refused to <ip>:<port>"),
        (1, None),
    ]
    assert groups[1]["example"] == "assert 1 == 2"


def test_it_counts_flips_only_between_runs_of_the_same_revision(suite, cases, revisions, at):
    a, b, c, _ = cases
    r0, r1, _ = revisions
    make_run(suite, {a: "passed", b: "passed", c: "passed"}, revision=r0, at=at(0))
    make_run(suite, {a: "failed", b: "passed", c: "passed"}, revision=r0, at=at(1))
    make_run(suite, {a: "passed", b: "passed", c: "passed"}, revision=r1, at=at(2), flaky=(b,))
    make_run(suite, {a: "passed", b: "passed", c: "passed"}, revision=r1, at=at(3))

    found, total = flaky.flaky_cases(suite_id=suite.pk)

    assert total == 2
    assert {(f.case_id, f.flips, f.retries) for f in found} == {(a.pk, 1, 0), (b.pk, 0, 1)}
    assert flaky.case_flakiness(case_id=a.pk).flips == 1
    assert flaky.case_flakiness(case_id=c.pk).is_flaky is False


def test_it_judges_flakiness_over_the_last_flaky_window_runs_only(suite, cases, at, settings):
    settings.FLAKY_WINDOW = 2
    a, *_ = cases
    make_run(suite, {a: "passed"}, at=at(0))
    make_run(suite, {a: "failed"}, at=at(1))
    make_run(suite, {a: "passed"}, at=at(2))
    make_run(suite, {a: "passed"}, at=at(3))

    assert flaky.flaky_cases(suite_id=suite.pk) == ([], 0)
    assert flaky.case_flakiness(case_id=a.pk).flips == 0
    assert flaky.case_flakiness(case_id=a.pk).seen == 2


def test_it_says_since_which_run_and_revision_a_test_is_broken(suite, cases, revisions, at):
    a, b, c, _ = cases
    r0, r1, r2 = revisions
    make_run(suite, {a: "passed", b: "failed", c: "passed"}, revision=r0, at=at(0))
    first_bad = make_run(suite, {a: "failed", b: "failed", c: "passed"}, revision=r1, at=at(1))
    make_run(suite, {a: "skipped", b: "failed", c: "failed"}, revision=r1, at=at(2))
    make_run(suite, {a: "error", b: "failed", c: "passed"}, revision=r2, at=at(3))

    broken = case_selectors.broken_since(case=a)

    assert broken.run_id == first_bad.pk
    assert broken.revision_name == "web-00001"
    assert case_selectors.broken_since(case=b).revision_name == "web-00000"
    assert case_selectors.broken_since(case=c) is None


def test_it_keeps_the_last_results_of_a_test_oldest_first(suite, cases, at):
    a, *_ = cases
    runs = [make_run(suite, {a: "passed"}, at=at(n)) for n in range(4)]

    history = case_selectors.case_history(case=a, limit=3)

    assert [h["run_id"] for h in history] == [r.pk for r in runs[1:]]


def test_it_diffs_two_runs_test_by_test(suite, cases, at):
    a, b, c, d = cases
    first = make_run(suite, {a: "passed", b: "failed", d: "passed"}, at=at(0))
    second = make_run(suite, {a: "failed", b: "passed", c: "passed", d: "passed"}, at=at(1))

    diff = compare.outcome_diff(compare.Sides(a=[first.pk], b=[second.pk]))

    assert [(row.pk, row.a, row.b, row.change) for row in diff] == [
        (a.pk, "passed", "failed", "newly failing"),
        (b.pk, "failed", "passed", "newly passing"),
        (c.pk, None, "passed", "other change"),
    ]
    assert compare.diff_counts(diff) == {
        "newly failing": 1,
        "newly passing": 1,
        "other change": 1,
    }


def test_it_compares_revisions_by_the_latest_run_of_each_suite(suite, cases, revisions, at):
    a, b, *_ = cases
    r0, r1, _ = revisions
    other_suite = SuiteFactory(service=suite.service)
    x = CaseFactory(suite=other_suite)
    make_run(suite, {a: "passed", b: "passed"}, revision=r0, at=at(0))
    make_run(other_suite, {x: "passed"}, revision=r0, at=at(0))
    make_run(suite, {a: "passed", b: "passed"}, revision=r1, at=at(1))
    make_run(suite, {a: "failed", b: "passed"}, revision=r1, at=at(2))
    make_run(other_suite, {x: "failed"}, revision=r1, at=at(2))

    found = revision_selectors.previous_revision(revision=r1)
    diff = revision_selectors.revision_changes(revision=r1, previous=found)

    assert found == r0
    assert {(row.pk, row.change) for row in diff} == {
        (a.pk, "newly failing"),
        (x.pk, "newly failing"),
    }
    counts = compare.run_counts(compare.latest_runs_of(revision=r1))
    assert (counts["runs"], counts["passed"], counts["failed"]) == (2, 1, 2)


def test_it_builds_overview_cards_with_trends_and_flaky_counts(suite, cases, revisions, at):
    a, b, *_ = cases
    make_run(suite, {a: "passed", b: "failed"}, revision=revisions[0], at=at(0))
    make_run(suite, {a: "passed", b: "passed"}, revision=revisions[0], at=at(1), flaky=(a,))

    (card,) = service_cards()

    assert card.last_run.pass_rate == 1.0
    assert [rate for _, _, rate in card.by_run] == [0.5, 1.0]
    assert sum(1 for _ in card.by_day) >= 1
    assert card.flaky_tests == 2  # b flipped on one revision; a passed on a retry
