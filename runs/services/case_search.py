"""Search indexing of the tests an import created, after the import commits.

The importer writes its new TestCase rows with search_pending set (runs.services.ingest_cases),
which keeps them out of the trigram GIN indexes (migration 0032): those indexes cost about three
quarters of writing a first import's cases. This task's UPDATE is when their GIN entries are
written. Until then runs.selectors.search matches them through the partial index of pending
cases, so a run's tests are found from the moment the run is visible.
"""

from __future__ import annotations

from django.db import connection, transaction

from runs.models import TestCase
from runs.reports_seam import capability_cases_map

_TABLE = TestCase._meta.db_table
# Cases a statement indexes: each its own short transaction outside a caller's (a worker's).
BATCH = 5000


def case_search_index(*, suite_id: int) -> int:
    """Put the suite's pending cases into the search indexes; how many. Idempotent: a second
    call (a message sent twice, the sweeper) finds none.

    Rows another transaction holds (an import marking a test real) are skipped, never waited
    for, so this task is never part of a deadlock with an import; case_search_pending_left says
    whether any were.

    Each batch also maps its cases to the capabilities (reports.CapabilityCase) in the same
    transaction: the capability pages read mapped cases and pending ones, so a case is always
    in one of the two. A batch waits for an import of the suite that is being written (it
    holds the suite's row) to commit, so the batch counts its tests' latest results as they
    end up."""
    if connection.vendor != "postgresql":
        return 0  # SQLite's importer writes nothing pending (its FTS5 triggers index on insert)
    done = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # The suite's latest results hold still while the batch's tests are counted into
            # the summary's tallies (an import holds the suite while it moves them).
            cursor.execute("SELECT id FROM runs_suite WHERE id = %s FOR SHARE", [suite_id])
            cursor.execute(
                f"UPDATE {_TABLE} SET search_pending = false WHERE id IN ("  # noqa: S608
                f"SELECT id FROM {_TABLE} WHERE suite_id = %s AND search_pending "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id",
                [suite_id, BATCH],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            capability_cases_map(case_ids=ids)
        done += len(ids)
        if len(ids) < BATCH:
            return done


def case_search_pending_left(*, suite_id: int) -> bool:
    """Whether the suite still has cases pending indexing (skipped as locked, or new)."""
    return TestCase.objects.filter(suite_id=suite_id, search_pending=True).exists()
