"""Test cases for an import: the suite's known ones read ahead, the new ones created in bulk."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from django.db import connection, connections
from django.utils import timezone

from runs.junit import ParsedCase
from runs.models import Suite, TestCase
from runs.services.bulk import is_postgres, rows_insert

logger = logging.getLogger(__name__)
_QUERY = f"SELECT key_hash, id FROM {TestCase._meta.db_table} WHERE suite_id = %s"  # noqa: S608


class KnownCases:
    """Reads a suite's (key_hash -> id) on its own connection, in a thread, while the caller
    parses the report: on PostgreSQL the read and the parse then overlap instead of adding up.

    The result is a hint, never the truth: `cases_upsert` re-reads every row newer than the
    newest one seen here inside the import's own transaction.
    """

    def __init__(self, *, suite_id: int) -> None:
        self._known: dict[str, int] | None = None
        self._thread: threading.Thread | None = None
        if is_postgres():
            self._thread = threading.Thread(target=self._read, args=(suite_id,), daemon=True)
            self._thread.start()

    def _read(self, suite_id: int) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(_QUERY, [suite_id])
                self._known = dict(cursor.fetchall())
        except Exception:  # the import reads the cases itself then; a hint must not fail it
            logger.warning("reading suite %s's cases ahead failed", suite_id, exc_info=True)
        finally:
            connections.close_all()

    def result(self) -> dict[str, int] | None:
        if self._thread is not None:
            self._thread.join()
        return self._known


def cases_upsert(
    *,
    suite: Suite,
    cases: list[ParsedCase],
    hashes: list[str],
    prefetched: dict[str, int] | None = None,
) -> dict[str, int]:
    """Create the suite's unknown TestCases in bulk; return key_hash -> id for every case."""
    wanted = dict(zip(hashes, cases, strict=True))
    now = timezone.now()
    if is_postgres():
        return _upsert_postgres(suite=suite, wanted=wanted, now=now, prefetched=prefetched)
    TestCase.objects.bulk_create(
        [
            TestCase(
                suite=suite, key=c.key, key_hash=h, name=c.name, classname=c.classname, file=c.file
            )
            for h, c in wanted.items()
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    ids: dict[str, int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 900):
        ids.update(
            TestCase.objects.filter(
                suite=suite, key_hash__in=keys[start : start + 900]
            ).values_list("key_hash", "id")
        )
    return ids


def _newer(suite: Suite, after: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(_QUERY + " AND id > %s", [suite.pk, after])
        return dict(cursor.fetchall())


def _upsert_postgres(
    *, suite: Suite, wanted: dict[str, ParsedCase], now: datetime, prefetched: dict | None
) -> dict[str, int]:
    """Complete the known cases with any newer than the read-ahead; COPY the missing ones in
    and read back their ids (every id newer than the newest known one).

    COPY cannot say ON CONFLICT: when a concurrent import of the same suite inserts one of these
    keys first, the unique index fails this transaction and run_import retries it.
    """
    known = dict(prefetched or {})
    known.update(_newer(suite, max(known.values(), default=0)))
    # In key_hash order, a new suite's entries append to the right edge of the unique index
    # instead of splitting pages all over it (about twice as fast for 100,000 new cases).
    missing = sorted(h for h in wanted if h not in known)
    if not missing:
        return known
    newest = max(known.values(), default=0)
    rows_insert(
        TestCase._meta.db_table,
        ("suite_id", "key", "key_hash", "name", "classname", "file", "first_seen_at"),
        (
            (suite.pk, c.key, h, c.name, c.classname, c.file, now)
            for h, c in ((h, wanted[h]) for h in missing)
        ),
    )
    known.update(_newer(suite, newest))
    return known
