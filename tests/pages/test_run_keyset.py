"""The run page lists a run's results a page at a time by keyset (after=/before= cursors, no
OFFSET, no count): failures first, then passes, then skipped, each in test order; next and
previous links walk every result exactly once, keep the filters, and cost as many queries for a
big run as for a small one."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.selectors import runs as run_selectors
from tests.factories import CaseFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db

PER_PAGE = 50


def _outcome(i: int) -> str:
    if i % 9 == 0:
        return "failed"
    if i % 13 == 0:
        return "skipped"
    if i % 17 == 0:
        return "error"
    return "passed"


@pytest.fixture
def big_run(suite, at):
    """130 tests: 15 failed, 6 errors, 9 skipped, 100 passed; test_004 and test_020 flaky."""
    cases = [CaseFactory(suite=suite, key=f"tests/test_k.py::test_{i:03d}") for i in range(130)]
    outcomes = {case: _outcome(i) for i, case in enumerate(cases)}
    make_run(suite, dict.fromkeys(cases, "passed"), at=at(1))
    run = make_run(suite, outcomes, at=at(2), flaky=(cases[4], cases[20]))
    return {"run": run, "cases": cases, "outcomes": outcomes}


def _expected(big_run, keep=lambda case, outcome: True) -> list[int]:
    rank = {"failed": 0, "error": 0, "passed": 1, "skipped": 2}
    rows = [(rank[o], c.pk) for c, o in big_run["outcomes"].items() if keep(c, o)]
    return [pk for _, pk in sorted(rows)]


def _rows(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<tr data-outcome="\w+"><td><a href="/tests/(\d+)/"', html)
    ]


def _link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a rel="{rel}" href="([^"]*)"', html)
    return match and match[1].replace("&amp;", "&")


def _walk(client, url: str, rel: str = "next") -> tuple[list[list[int]], list[str]]:
    pages, html_pages = [], []
    path = url
    while path is not None:
        html = client.get(path).content.decode()
        pages.append(_rows(html))
        html_pages.append(html)
        link = _link(html, rel)
        path = url.split("?")[0] + link if link is not None else None
        assert len(pages) < 20, "the pages never end"
    return pages, html_pages


def test_next_links_walk_every_result_once_failures_then_passes_then_skipped(
    login, viewer, big_run
):
    url = reverse("run-detail", args=[big_run["run"].pk])

    pages, html = _walk(login(viewer), url)

    assert [len(p) for p in pages] == [50, 50, 30]
    assert [pk for page in pages for pk in page] == _expected(big_run)
    assert _link(html[0], "prev") is None  # the first page has no previous page
    assert _link(html[-1], "next") is None
    assert "30 shown of 130" in html[-1]  # the count is the run's stored total


def test_previous_links_come_back_page_by_page_to_the_first(login, viewer, big_run):
    client = login(viewer)
    url = reverse("run-detail", args=[big_run["run"].pk])
    forward, html = _walk(client, url)

    backward, _ = _walk(client, url + _link(html[-1], "prev"), rel="prev")

    assert backward == forward[-2::-1]  # the same pages, in reverse, down to the first


def test_paging_keeps_the_outcome_and_search_filters(login, viewer, big_run):
    client = login(viewer)
    url = reverse("run-detail", args=[big_run["run"].pk])

    passed, html = _walk(client, url + "?outcome=passed")
    searched, _ = _walk(client, url + "?q=test_0")

    assert [pk for page in passed for pk in page] == _expected(big_run, lambda c, o: o == "passed")
    assert "outcome=passed&after=1." in _link(html[0], "next")
    assert "outcome=passed&before=1." in _link(html[1], "prev")
    assert [pk for page in searched for pk in page] == _expected(
        big_run, lambda c, o: c.key.split("::")[1].startswith("test_0")
    )


def test_the_only_filters_page_within_their_rows(login, viewer, big_run):
    url = reverse("run-detail", args=[big_run["run"].pk])

    flaky, html = _walk(login(viewer), url + "?only=flaky")
    new, _ = _walk(login(viewer), url + "?only=new")

    assert flaky == [[big_run["cases"][4].pk, big_run["cases"][20].pk]]
    assert 'id="results-pager"' not in html[0]  # one page: no pager
    assert [pk for page in new for pk in page] == _expected(  # every failure is new
        big_run, lambda c, o: o in ("failed", "error")
    )


def test_the_order_is_stable_when_results_arrive_between_pages(suite, at, big_run):
    """A cursor names a place, not an offset: rows added before it do not shift the next page."""
    run = big_run["run"]
    first = run_selectors.run_results_page(run=run, per_page=PER_PAGE)
    expected_second = run_selectors.run_results_page(run=run, after=first.next, per_page=PER_PAGE)
    newcomer = CaseFactory(suite=suite, key="tests/test_k.py::test_000a")
    run.results.create(case=newcomer, outcome="failed")  # a failure sorts before the cursor

    second = run_selectors.run_results_page(run=run, after=first.next, per_page=PER_PAGE)

    assert [r.pk for r in second.results] == [r.pk for r in expected_second.results]


def test_a_cursor_past_the_end_shows_an_empty_page_with_a_way_back(login, viewer, big_run):
    url = reverse("run-detail", args=[big_run["run"].pk]) + "?after=2.999999999"

    html = login(viewer).get(url).content.decode()

    assert _rows(html) == []
    assert _link(html, "prev") == "?"


def test_the_big_run_page_costs_as_many_queries_as_a_small_one(login, viewer, suite, at, big_run):
    client = login(viewer)
    small_cases = [CaseFactory(suite=suite, key=f"tests/test_s.py::test_{i}") for i in range(3)]
    small = make_run(suite, {small_cases[0]: "failed", small_cases[1]: "passed"}, at=at(3))
    counts = []
    for run, query in ((small, ""), (big_run["run"], ""), (big_run["run"], "?after=1.0")):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("run-detail", args=[run.pk]) + query).status_code == 200
        counts.append(len(captured.captured_queries))

    assert max(counts) <= 19  # the same bound for 2 results and for 130, on any page
    assert counts[1] <= counts[0]
