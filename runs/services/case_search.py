"""Search indexing of the tests an import created, after the import commits.

The importer writes its new TestCase rows with search_pending set (runs.services.ingest_cases),
which keeps them out of the trigram GIN indexes (migration 0032): those indexes cost about three
quarters of writing a first import's cases. This task's UPDATE is when their GIN entries are
written. Until then runs.selectors.search matches them through the partial index of pending
cases, so a run's tests are found from the moment the run is visible.
"""

from __future__ import annotations

from django.db import connection

from runs.models import TestCase

_TABLE = TestCase._meta.db_table


def case_search_index(*, suite_id: int) -> int:
    """Put the suite's pending cases into the search indexes; how many. Idempotent: a second
    call (a message sent twice, the sweeper) finds none."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} SET search_pending = false WHERE suite_id = %s AND search_pending",  # noqa: S608
            [suite_id],
        )
        return cursor.rowcount
