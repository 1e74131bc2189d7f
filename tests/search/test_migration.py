"""Migration 0020_search: the trigram indexes exist on PostgreSQL and the match uses them."""

from __future__ import annotations

import pytest
from django.db import connection

from runs.selectors.search import _matching

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)


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


@pytest.mark.parametrize(
    ("kind", "indexes"),
    [
        ("tests", ["search_case_classname", "search_case_file", "search_case_name"]),
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
