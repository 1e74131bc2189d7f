"""The compare page when a suite ran on one side only: its passes are counted from its run and
named in a sentence, not listed row by row; the counts equal comparing every test."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.selectors import compare
from tests.factories import CaseFactory, SuiteFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_sided(suite, cases, revisions, at):
    """`suite` ran on r0 and r1 (test 0 broke); `late` ran on r1 only (2 passes, a failure, an
    error, a skip); `gone` ran on r0 only (a pass and a failure)."""
    r0, r1, _ = revisions
    a, b, *_ = cases
    make_run(suite, {a: "passed", b: "passed"}, revision=r0, at=at(0))
    make_run(suite, {a: "failed", b: "passed"}, revision=r1, at=at(11))
    late = SuiteFactory(service=suite.service, name="late")
    outcomes = ["passed", "passed", "failed", "error", "skipped"]
    late_run = make_run(
        late, {CaseFactory(suite=late): o for o in outcomes}, revision=r1, at=at(12)
    )
    gone = SuiteFactory(service=suite.service, name="gone")
    gone_outcomes = {CaseFactory(suite=gone): o for o in ("passed", "failed")}
    gone_run = make_run(gone, gone_outcomes, revision=r0, at=at(1))
    return r0, r1, late_run, gone_run


def test_the_compare_counts_equal_comparing_every_test_without_listing_one_sided_passes(
    one_sided,
):
    r0, r1, late_run, gone_run = one_sided
    sides = compare.sides_of(
        compare.latest_runs_of(revision=r0), compare.latest_runs_of(revision=r1)
    )
    every_test = compare.outcome_diff(sides)  # reads the one-sided suites' passes too

    found = compare.compare_diff(sides)

    assert found.counts() == compare.diff_counts(every_test)
    assert found.counts() == {"newly failing": 3, "newly passing": 0, "other change": 5}
    # every row but the one-sided passes is listed, with the same change
    one_sided_pass = {(None, "passed"), ("passed", None)}
    listed = {(row.pk, row.change) for row in found.changes}
    assert listed == {
        (row.pk, row.change) for row in every_test if (row.a, row.b) not in one_sided_pass
    }
    assert [(s.side, s.run_id, s.passes) for s in found.one_sided] == [
        ("A", gone_run.pk, 1),
        ("B", late_run.pk, 2),
    ]


def test_the_compare_page_names_the_unlisted_passes_in_as_many_queries(
    login, viewer, one_sided, suite, at, django_assert_max_num_queries
):
    r0, r1, late_run, _ = one_sided
    client = login(viewer)
    url = f"{reverse('compare')}?revisions={r0.pk},{r1.pk}"
    client.get(url)  # session and caches warmed

    page = client.get(url).content.decode()

    assert "3 newly failing in B, 0 newly passing in B, 5 other changes." in page
    assert f'ran on side B only (<a href="/runs/{late_run.pk}/">run #{late_run.pk}</a>)' in page
    assert "its 2 passes count as other changes but are not listed" in page
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # one more suite on one side only makes no more queries
    more = SuiteFactory(service=suite.service, name="more")
    make_run(more, {CaseFactory(suite=more): "passed"}, revision=r1, at=at(13))
    with django_assert_max_num_queries(len(captured.captured_queries)):
        page = client.get(url).content.decode()
    assert "3 newly failing in B, 0 newly passing in B, 6 other changes." in page


def test_a_side_without_runs_counts_no_one_sided_passes_as_nothing_else_is_compared(
    one_sided, revisions
):
    # given a revision with no run (A) compared with one whose suites all ran (B)
    _r0, r1, _, _ = one_sided
    empty = revisions[2]
    sides = compare.sides_of(
        compare.latest_runs_of(revision=empty), compare.latest_runs_of(revision=r1)
    )

    # when the changes are counted
    found = compare.compare_diff(sides)

    # then, as outcome_diff compares nothing against a side without runs (tests/pages/
    # test_compare_candidates.py), no pass of B is counted as an other change either
    assert found.one_sided == []
    assert found.counts() == compare.diff_counts(compare.outcome_diff(sides))
    assert found.counts() == {"newly failing": 0, "newly passing": 0, "other change": 0}
