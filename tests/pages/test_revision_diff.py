"""The revision page's comparison with the previous revision when a suite ran on one of them only:
the same changes and counts as comparing every test, without reading that suite's passes one by
one, in the same number of queries as when every suite ran on both."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.selectors import compare
from runs.selectors import revisions as revision_selectors
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
    make_run(late, {CaseFactory(suite=late): o for o in outcomes}, revision=r1, at=at(12))
    gone = SuiteFactory(service=suite.service, name="gone")
    gone_outcomes = {CaseFactory(suite=gone): o for o in ("passed", "failed")}
    make_run(gone, gone_outcomes, revision=r0, at=at(1))
    return r0, r1


def test_a_suite_run_on_one_revision_only_counts_as_comparing_every_test(one_sided):
    r0, r1 = one_sided
    sides = compare.sides_of(
        compare.latest_runs_of(revision=r0), compare.latest_runs_of(revision=r1)
    )
    every_test = compare.outcome_diff(sides)  # reads the one-sided suites' passes too

    found = revision_selectors.revision_diff(revision=r1, previous=r0)

    # 1 broke in `suite`, 2 new failures in `late`; other changes: late's 2 passes and skip,
    # gone's pass and failure
    assert found.counts() == compare.diff_counts(every_test)
    assert found.counts() == {"newly failing": 3, "newly passing": 0, "other change": 5}
    listed = {(row.pk, row.change) for row in found.changes.exclude(change="other change")}
    assert listed == {(row.pk, row.change) for row in every_test.exclude(change="other change")}
    assert found.one_sided_passes == 3  # late's two passes and gone's one, from the runs


def test_the_revision_page_shows_the_counts_in_as_many_queries(
    login, viewer, one_sided, suite, cases, at, django_assert_max_num_queries
):
    _r0, r1 = one_sided
    client = login(viewer)
    url = reverse("revision-detail", args=[r1.pk])
    client.get(url)  # session and caches warmed

    page = client.get(url).content.decode()

    assert '<strong id="newly-failing-count">3</strong>' in page
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # one more suite on one side only makes no more queries
    more = SuiteFactory(service=suite.service, name="more")
    make_run(more, {CaseFactory(suite=more): "failed"}, revision=r1, at=at(13))
    with django_assert_max_num_queries(len(captured.captured_queries)):
        page = client.get(url).content.decode()
    assert '<strong id="newly-failing-count">4</strong>' in page
