"""The run page's "new failures only" and "flaky only" filters: exact rows, counts on the links,
kept with paging and the other filters, refused with a sentence when unknown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from runs.selectors import runs as run_selectors
from tests.factories import CaseFactory
from tests.pages.conftest import build_history, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs(suite, at):
    """Before: t0 failed, t1..t3 passed. Now: t0 still fails, t1 fails and t2 errors (new), t3
    passed on a retry (flaky), t4 is a new test that fails (new), t5 passes."""
    t = [CaseFactory(suite=suite, key=f"tests/test_b.py::test_{i}") for i in range(6)]
    before = make_run(
        suite, {t[0]: "failed", t[1]: "passed", t[2]: "passed", t[3]: "passed"}, at=at(1)
    )
    now = make_run(
        suite,
        {
            t[0]: "failed",
            t[1]: "failed",
            t[2]: "error",
            t[3]: "passed",
            t[4]: "failed",
            t[5]: "passed",
        },
        at=at(2),
        flaky=(t[3],),
    )
    return {"cases": t, "before": before, "now": now}


def names(results) -> list[str]:
    return sorted(r.case.name for r in results)


def test_it_keeps_only_failures_that_did_not_fail_in_the_previous_run(two_runs):
    now, before = two_runs["now"], two_runs["before"]

    rows = run_selectors.run_results(run=now, only="new", previous=before)

    assert names(rows) == ["test_1", "test_2", "test_4"]


def test_it_keeps_only_results_that_passed_on_a_retry(two_runs):
    rows = run_selectors.run_results(run=two_runs["now"], only="flaky", previous=two_runs["before"])

    assert names(rows) == ["test_3"]


def test_it_combines_only_with_the_outcome_and_name_filters(two_runs):
    now, before = two_runs["now"], two_runs["before"]

    errors = run_selectors.run_results(run=now, only="new", outcome="error", previous=before)
    by_name = run_selectors.run_results(run=now, only="new", search="test_4", previous=before)

    assert names(errors) == ["test_2"]
    assert names(by_name) == ["test_4"]


def test_it_counts_each_filter_within_the_other_filters(two_runs):
    now, before = two_runs["now"], two_runs["before"]

    assert run_selectors.only_counts(run=now, previous=before) == {"all": 6, "new": 3, "flaky": 1}
    assert run_selectors.only_counts(run=now, outcome="failed", previous=before) == {
        "all": 3,
        "new": 2,
        "flaky": 0,
    }


def test_with_no_previous_run_every_failure_is_new(two_runs):
    rows = run_selectors.run_results(run=two_runs["before"], only="new", previous=None)

    assert names(rows) == ["test_0"]


def test_the_run_page_shows_counts_on_each_filter_link_and_keeps_other_filters(
    login, viewer, two_runs
):
    url = reverse("run-detail", args=[two_runs["now"].pk])
    client = login(viewer)

    page = client.get(url + "?outcome=failed&only=new").content.decode()

    assert page.count('data-outcome="') == 2  # test_1 and test_4
    assert 'new failures only <span class="muted">(2)</span>' in page
    assert 'flaky only <span class="muted">(0)</span>' in page
    assert 'href="?outcome=failed&amp;only=flaky"' in page  # keeps the outcome
    assert 'href="?outcome=failed&amp;only=new"' in page  # an outcome link keeps only=new
    assert "passed only on a retry" in page  # the definitions are stated


def test_the_only_filter_is_kept_in_page_links(login, viewer, suite, at):
    cases = [CaseFactory(suite=suite, key=f"tests/test_c.py::test_{i:03d}") for i in range(60)]
    make_run(suite, dict.fromkeys(cases, "passed"), at=at(1))
    now = make_run(suite, dict.fromkeys(cases, "failed"), at=at(2))

    page = login(viewer).get(reverse("run-detail", args=[now.pk]) + "?only=new").content.decode()

    assert page.count('data-outcome="failed"') == 50
    assert "only=new&amp;after=0." in page


def test_the_run_page_refuses_an_unknown_only_filter(login, viewer, two_runs):
    url = reverse("run-detail", args=[two_runs["now"].pk]) + "?only=broken"

    response = login(viewer).get(url)

    assert response.status_code == 400
    assert "“broken” is not a filter; use only=new" in response.content.decode()


@pytest.mark.parametrize("size", [(4, 4), (30, 40)], ids=["small", "bigger"])
def test_the_filtered_run_page_makes_as_many_queries_at_any_size(
    login, viewer, django_assert_max_num_queries, size
):
    runs, tests = size
    h = build_history(runs=runs, tests=tests)
    client = login(viewer)
    url = reverse("run-detail", args=[h["runs"][-1].pk])

    for query in ("?only=new", "?only=flaky&outcome=passed&q=step"):
        with django_assert_max_num_queries(19):
            assert client.get(url + query).status_code == 200
