"""Tests an import creates are searchable as soon as the run is visible, before and after their
search indexing (runs.services.case_search), which the import sends with its run."""

from __future__ import annotations

import pytest
from django.db import connection

from runs.models import Outbox, TestCase
from runs.selectors.runs import search_matches
from runs.selectors.search import search_group
from runs.services.case_search import case_search_index
from runs.services.enqueue import CASE_SEARCH_INDEX
from runs.services.ingest import IngestError, ReportFile, run_import

pytestmark = pytest.mark.django_db

REPORT = (
    b'<testsuite name="checkout"><testcase classname="tests.cart.CartFlow" '
    b'name="test_coupon_applies_once" file="tests/cart/test_coupon.py" time="0.2"/>'
    b'<testcase classname="tests.cart.CartFlow" name="test_empty_cart" time="0.1"/>'
    b"</testsuite>"
)


def _import(suite, data: bytes = REPORT, name: str = "junit.xml"):
    return run_import(suite=suite, files=[ReportFile(name=name, data=data)], analyze=False)


def _found(q: str) -> list[str]:
    return [hit.title for hit in search_group(q=q, kind="tests", limit=10).hits]


def _indexing_messages() -> list[list]:
    return list(Outbox.objects.filter(task=CASE_SEARCH_INDEX).values_list("args", flat=True))


def test_a_new_run_s_tests_are_found_by_name_class_and_file_before_their_indexing(suite):
    run = _import(suite).run

    assert _found("COUPON_applies") == ["test_coupon_applies_once"]
    assert _found("cart/test_coupon.py") == ["test_coupon_applies_once"]
    assert sorted(_found("cart.CartFlow")) == ["test_coupon_applies_once", "test_empty_cart"]
    matches = search_matches(run=run, search="empty_cart")
    assert [TestCase.objects.get(pk=pk).name for pk in matches.case_ids] == ["test_empty_cart"]


def test_indexing_moves_the_tests_into_the_search_indexes_and_they_are_still_found(suite):
    run = _import(suite).run
    pending = TestCase.objects.filter(suite=suite, search_pending=True).count()

    indexed = case_search_index(suite_id=suite.pk)

    # PostgreSQL indexes them after the commit; SQLite's FTS5 triggers did it on insert.
    assert (pending, indexed) == ((2, 2) if connection.vendor == "postgresql" else (0, 0))
    assert not TestCase.objects.filter(suite=suite, search_pending=True).exists()
    assert case_search_index(suite_id=suite.pk) == 0  # a message sent twice does nothing
    assert _found("COUPON_applies") == ["test_coupon_applies_once"]
    assert _found("cart/test_coupon.py") == ["test_coupon_applies_once"]
    matches = search_matches(run=run, search="empty_cart")
    assert [TestCase.objects.get(pk=pk).name for pk in matches.case_ids] == ["test_empty_cart"]


def test_an_import_that_creates_tests_sends_their_indexing_and_one_of_known_tests_does_not(suite):
    _import(suite)
    first = _indexing_messages()
    _import(suite, REPORT.replace(b'time="0.1"', b'time="0.3"'))

    expected = [[suite.pk]] if connection.vendor == "postgresql" else []
    assert first == expected
    assert _indexing_messages() == expected  # the second import created no test


def test_a_refused_import_leaves_no_tests_and_no_indexing_message(suite):
    broken = REPORT[:-20]

    with pytest.raises(IngestError):
        _import(suite, broken)

    assert not TestCase.objects.filter(suite=suite).exists()
    assert _indexing_messages() == []
