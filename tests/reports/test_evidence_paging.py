"""The evidence pages list their rows a page at a time: each row once, in the same order and with
the same figures as one long list, in a fixed number of queries whatever page is open."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.selectors import evidence
from runs.models import FailureSignature
from tests.factories import (
    CaseFactory,
    ResultFactory,
    RevisionFactory,
    ServiceFactory,
    SuiteFactory,
)
from tests.reports.conftest import make_run

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"
QUERY = {"start": "2030-03-01", "end": "2030-03-28"}
PAGE_QUERIES = 7  # session, user, permissions … plus the page, its total, triage's signatures


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(evidence, "PER_PAGE", 4)


@pytest.fixture
def client_m(manager, login):
    return login(manager)


def _runs(count: int) -> list:
    """`count` runs of one suite, one a day at hours that tie on some days (equal times page by
    id), every third failing."""
    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    revision = RevisionFactory(service=suite.service)
    return [
        make_run(suite, 1 + n // 3, 9, 1 if n % 3 == 0 else 0, revision=revision, hour=12)
        for n in range(count)
    ]


def _pages(client, kind: str, query: dict, django_assert_max_num_queries) -> list[str]:
    """Every page of the list, following its next links; the pages' HTML."""
    pages, params = [], dict(query)
    for _ in range(20):
        with django_assert_max_num_queries(PAGE_QUERIES):
            response = client.get(reverse("reports:evidence", args=[kind]), params)
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(html)
        found = re.search(r'<a rel="next" href="\?([^"]+)"', html)
        if not found:
            return pages
        params = dict(pair.split("=", 1) for pair in found[1].replace("&amp;", "&").split("&"))
    raise AssertionError("the next links never ended")


def _run_ids(html: str) -> list[int]:
    body = html[html.index("<tbody>") :]
    return [int(pk) for pk in re.findall(r'<a href="/runs/(\d+)/">#\d+</a>', body)]


def test_the_runs_evidence_lists_every_run_once_newest_first_across_pages(
    client_m, small_pages, django_assert_max_num_queries
):
    # given 11 runs in the period, some at the same time (4 a page)
    runs = _runs(11)
    expected = [r.pk for r in sorted(runs, key=lambda r: (r.created_at, r.pk), reverse=True)]

    # when the manager follows the next links
    pages = _pages(client_m, "runs", QUERY, django_assert_max_num_queries)

    # then three pages list the 11 runs once each, newest first, and say which rows they show
    assert [len(_run_ids(p)) for p in pages] == [4, 4, 3]
    assert [pk for page in pages for pk in _run_ids(page)] == expected
    assert f"11 row(s), rows 1{DASH}4 shown" in pages[0]
    assert f"rows 5{DASH}8 of 11" in pages[1]
    assert f"rows 9{DASH}11 of 11" in pages[2]
    assert 'rel="first"' in pages[2] and 'rel="next"' not in pages[2]


def test_the_failing_runs_filter_is_kept_on_the_next_page(
    client_m, small_pages, django_assert_max_num_queries
):
    runs = _runs(18)
    failing = [r.pk for r in runs if r.status == "failed"]

    pages = _pages(client_m, "runs", {**QUERY, "status": "failing"}, django_assert_max_num_queries)

    assert sorted(pk for page in pages for pk in _run_ids(page)) == sorted(failing)
    assert len(pages) == 2


def test_a_short_list_is_one_page_without_links(client_m, django_assert_max_num_queries):
    _runs(3)

    (page,) = _pages(client_m, "runs", QUERY, django_assert_max_num_queries)

    assert "3 row(s)." in page
    assert 'id="evidence-pager"' not in page


def test_the_restores_evidence_pages_by_number(
    client_m, small_pages, django_assert_max_num_queries
):
    # given 6 suites, each red then green in the period: 6 episodes
    for n in range(6):
        suite = SuiteFactory(service=ServiceFactory(name=f"svc-{n}"), name="e2e")
        make_run(suite, 2 + n, 9, 1)
        make_run(suite, 3 + n, 10, 0)

    pages = _pages(client_m, "restores", QUERY, django_assert_max_num_queries)

    assert [len(_run_ids(p)) for p in pages] == [4, 2]
    assert f"rows 5{DASH}6 of 6" in pages[1]
    assert len({pk for page in pages for pk in _run_ids(page)}) == 6


def test_the_triage_evidence_pages_signatures_with_their_failure_counts(
    client_m, small_pages, django_assert_max_num_queries
):
    # given 6 signatures failing 1..6 times in the period, and failures without a signature
    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    run = make_run(suite, 5, 0, 30)
    later = make_run(suite, 6, 0, 30)
    for n in range(1, 7):
        signature = FailureSignature.objects.create(
            suite=suite, kind="failed", hash=f"h{n}", normalized=f"signature number {n}"
        )
        for i in range(n):
            ResultFactory(
                run=later if i == 0 else run,
                case=CaseFactory(suite=suite),
                outcome="failed",
                signature=signature,
            )
    for _ in range(3):
        ResultFactory(run=run, case=CaseFactory(suite=suite), outcome="error")

    pages = _pages(client_m, "triage", QUERY, django_assert_max_num_queries)

    # then the signatures come by failures, most first, 4 then 2, each with its count and the
    # last run that failed so; the failures without a signature are not a row
    text = "".join(p[p.index("<tbody>") :] for p in pages)
    named = re.findall(r"signature number (\d)", text)
    assert named[::2] == ["6", "5", "4", "3", "2", "1"]  # (the title and the text of each)
    counts = re.findall(r'<td class="num">(\d+)</td>', text)
    assert counts == ["6", "5", "4", "3", "2", "1"]
    assert text.count(f'href="/runs/{later.pk}/"') == 6
    assert f"6 row(s), rows 1{DASH}4 shown" in pages[0]
    assert f"rows 5{DASH}6 of 6" in pages[1]


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("runs", {"after": "12.34"}),
        ("runs", {"after": "99999999999999999999.1.1"}),
        ("runs", {"after": "1.2.x"}),
        ("restores", {"page": "0"}),
        ("triage", {"page": "-2"}),
    ],
)
def test_a_page_place_no_link_made_is_a_400_with_a_sentence(client_m, kind, query):
    response = client_m.get(reverse("reports:evidence", args=[kind]), {**QUERY, **query})

    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>" in page
    assert "is not" in page


def test_a_later_page_bounds_the_time_from_above_so_the_index_starts_at_the_cursor(
    client_m, small_pages
):
    # given more runs than a page holds
    _runs(6)
    first = client_m.get(reverse("reports:evidence", args=["runs"]), QUERY).content.decode()
    after = re.search(r'<a rel="next" href="\?[^"]*after=([0-9.]+)', first)[1]

    # when the next page is read from the first page's last row
    with CaptureQueriesContext(connection) as captured:
        response = client_m.get(
            reverse("reports:evidence", args=["runs"]), {**QUERY, "after": after}
        )

    # then beside the place (time < t, or time = t and id < i) the time is bounded by t alone:
    # with the OR only, PostgreSQL walks the time index down from the newest row to the place
    assert response.status_code == 200
    page_sql = [q["sql"] for q in captured.captured_queries if "LIMIT 5" in q["sql"]]
    assert len(page_sql) == 1
    assert '"runs_testrun"."created_at" <= ' in page_sql[0]
