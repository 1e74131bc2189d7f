"""Migration 0020_search: the trigram indexes exist on PostgreSQL and the match uses them; on
SQLite the tests' FTS5 trigram table follows every insert, rename and delete."""

from __future__ import annotations

import pytest
from django.db import connection

from runs.models import TestCase
from runs.selectors.search import _matching
from tests.factories import CaseFactory

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 is SQLite's")


@on_postgres
def test_the_searched_columns_have_trigram_gin_indexes(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'search\\_%%'"
        )
        found = dict(cursor.fetchall())
    assert set(found) == {
        "search_service_name",
        "search_service_display",
        "search_suite_name",
        "search_case_name",
        "search_case_classname",
        "search_case_file",
        "search_revision_name",
        "search_revision_sha",
        "search_signature_normalized",
        "search_signature_example",
    }
    assert all("USING gin (upper(" in d and "gin_trgm_ops" in d for d in found.values())


@on_postgres
@pytest.mark.parametrize(
    ("kind", "indexes"),
    [
        (
            "tests",
            [
                "search_case_classname",
                "search_case_file",
                "search_case_name",
                "testcase_search_pending",
            ],
        ),
        ("failures", ["search_signature_example", "search_signature_normalized"]),
        ("revisions", ["search_revision_name", "search_revision_sha"]),
    ],
)
def test_the_match_reads_the_indexes(db, kind, indexes):
    # The count's query; at scale the planner picks the same indexes for a rare term's hits
    # (bench/search.py prints their plans), and walks the primary key for a common one.
    sql, params = _matching(kind, "test_login").order_by()[:1001].query.sql_with_params()
    with connection.cursor() as cursor:
        # A near-empty table is cheaper to walk whole; make the planner show what it could use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in indexes:
        assert f"Bitmap Index Scan on {index}" in plan, plan


@on_sqlite
def test_the_tests_fts_table_follows_new_renamed_and_deleted_tests(db):
    case = CaseFactory(name="test_checkout_total", file="tests/shop/test_cart.py")

    def found(q: str) -> list[int]:
        return list(_matching("tests", q).values_list("pk", flat=True))

    assert found("CHECKOUT_tot") == [case.pk]
    assert found("shop/test_cart") == [case.pk]
    TestCase.objects.filter(pk=case.pk).update(name="test_basket_total")
    assert found("checkout_tot") == []
    assert found("basket_tot") == [case.pk]
    case.delete()
    assert found("basket_tot") == []


@on_sqlite
def test_the_tests_match_reads_the_fts_table(db):
    sql, params = _matching("tests", "test_login").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "search_case_fts VIRTUAL TABLE INDEX" in plan, plan


@on_postgres
def test_the_tests_classname_and_file_indexes_skip_empty_values(db):
    # An empty file or classname, common in reports, would cost each new test an index entry.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE indexname IN ('search_case_classname', 'search_case_file')"
        )
        found = dict(cursor.fetchall())
    assert "(classname <> ''::text)" in found["search_case_classname"]
    assert "(file <> ''::text)" in found["search_case_file"]


@on_postgres
def test_the_tests_trigram_indexes_leave_out_the_cases_pending_indexing(db):
    # An import writes its new tests pending; the GIN entries are written after its commit.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'search\\_case\\_%%'"
        )
        found = dict(cursor.fetchall())
    assert len(found) == 3
    assert all("NOT search_pending" in d for d in found.values()), found
