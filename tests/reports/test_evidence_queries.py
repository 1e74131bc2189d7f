"""The evidence pages read their rows in a fixed number of queries, however many rows they list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import RevisionFactory, ServiceFactory, SuiteFactory
from tests.reports.conftest import make_run

pytestmark = pytest.mark.django_db

QUERY = {"start": "2030-03-01", "end": "2030-03-28"}


def _runs_in_suites(first: int, count: int) -> None:
    """One failing then one green run in each of `count` suites of their own services."""
    for number in range(first, first + count):
        service = ServiceFactory(name=f"svc-{number}")
        suite = SuiteFactory(service=service, name=f"e2e-{number}")
        revision = RevisionFactory(service=service)
        make_run(suite, 3, 9, 1, revision=revision)
        make_run(suite, 4, 10, 0, revision=revision)


def _queries(client, kind: str, django_assert_max_num_queries, limit: int) -> str:
    with django_assert_max_num_queries(limit):
        response = client.get(reverse("reports:evidence", args=[kind]), QUERY)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("kind", ["runs", "restores"])
def test_an_evidence_page_of_many_suites_makes_as_many_queries_as_one_of_few(
    manager, login, django_assert_max_num_queries, kind
):
    # given a few suites, the page's query count
    _runs_in_suites(0, 2)
    client = login(manager)
    client.get(reverse("reports:evidence", args=[kind]), QUERY)  # session and caches warmed
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reports:evidence", args=[kind]), QUERY)

    # when there are ten times as many suites (and rows)
    _runs_in_suites(2, 20)

    # then the page makes no more queries, and names every suite with its service
    page = _queries(client, kind, django_assert_max_num_queries, len(few.captured_queries))
    assert "svc-21 / e2e-21" in page
