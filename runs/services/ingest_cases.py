"""Test cases for an import: the suite's known ones read ahead, the new ones created in bulk."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from django.db import connection, connections
from django.utils import timezone

from engine.junit import ParsedCase
from runs.models import Suite, TestCase
from runs.models.testing import is_real
from runs.services.bulk import is_postgres, rows_insert

logger = logging.getLogger(__name__)
_QUERY = f"SELECT key_hash, id, ever_real FROM {TestCase._meta.db_table} WHERE suite_id = %s"  # noqa: S608


class CaseIds:
    """key_hash -> id of a suite's cases, and the ids of those not yet known to be real."""

    def __init__(self, rows=()) -> None:
        self.ids: dict[str, int] = {}
        self.plain: set[int] = set()
        self.add(rows)

    def add(self, rows) -> None:
        for key_hash, pk, ever_real in rows:
            self.ids[key_hash] = pk
            if not ever_real:
                self.plain.add(pk)


class KnownCases:
    """Reads a suite's (key_hash -> id) on its own connection, in a thread, while the caller
    parses the report: on PostgreSQL the read and the parse then overlap instead of adding up.

    The result is a hint, never the truth: `cases_upsert` re-reads every row newer than the
    newest one seen here inside the import's own transaction.
    """

    def __init__(self, *, suite_id: int) -> None:
        self._known: CaseIds | None = None
        self._thread: threading.Thread | None = None
        if is_postgres():
            self._thread = threading.Thread(target=self._read, args=(suite_id,), daemon=True)
            self._thread.start()

    def _read(self, suite_id: int) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(_QUERY, [suite_id])
                self._known = CaseIds(cursor.fetchall())
        except Exception:  # the import reads the cases itself then; a hint must not fail it
            logger.warning("reading suite %s's cases ahead failed", suite_id, exc_info=True)
        finally:
            connections.close_all()

    def result(self) -> CaseIds | None:
        if self._thread is not None:
            self._thread.join()
        return self._known


def cases_upsert(
    *,
    suite: Suite,
    cases: list[ParsedCase],
    hashes: list[str],
    prefetched: CaseIds | None = None,
) -> CaseIds:
    """Create the suite's unknown TestCases in bulk (with ever_real from this report); return
    every case's id, and which of the cases that existed before are not yet known real."""
    wanted = dict(zip(hashes, cases, strict=True))
    now = timezone.now()
    if is_postgres():
        return _upsert_postgres(suite=suite, wanted=wanted, now=now, prefetched=prefetched)
    TestCase.objects.bulk_create(
        [
            TestCase(
                suite=suite,
                key=c.key,
                key_hash=h,
                name=c.name,
                classname=c.classname,
                file=c.file,
                ever_real=is_real(c.outcome, c.duration),
            )
            for h, c in wanted.items()
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    known = CaseIds()
    keys = list(wanted)
    for start in range(0, len(keys), 900):
        known.add(
            TestCase.objects.filter(
                suite=suite, key_hash__in=keys[start : start + 900]
            ).values_list("key_hash", "id", "ever_real")
        )
    return known


def _newer(suite: Suite, after: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_QUERY + " AND id > %s", [suite.pk, after])
        return cursor.fetchall()


def _upsert_postgres(
    *, suite: Suite, wanted: dict[str, ParsedCase], now: datetime, prefetched: CaseIds | None
) -> CaseIds:
    """Complete the known cases with any newer than the read-ahead, then COPY the missing ones
    in with ids reserved from the table's sequence in one statement.

    Reserving a block (nextval, then setval past it) is not atomic against another session's
    nextval in between; such a clash, and a concurrent import inserting one of these keys
    first, both end in a unique violation that fails this transaction, and run_import retries.
    """
    known = prefetched or CaseIds()
    known.add(_newer(suite, max(known.ids.values(), default=0)))
    # In key_hash order, a new suite's entries append to the right edge of the unique index
    # instead of splitting pages all over it (about twice as fast for 100,000 new cases).
    missing = sorted(h for h in wanted if h not in known.ids)
    if not missing:
        return known
    table = TestCase._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, len(missing)],
        )
        last = cursor.fetchone()[0]
    first = last - len(missing) + 1
    new_ids = dict(zip(missing, range(first, last + 1), strict=True))
    rows_insert(
        table,
        (
            "id",
            "suite_id",
            "key",
            "key_hash",
            "name",
            "classname",
            "file",
            "first_seen_at",
            "ever_real",
        ),
        [
            (
                new_ids[h],
                suite.pk,
                c.key,
                h,
                c.name,
                c.classname,
                c.file,
                now,
                is_real(c.outcome, c.duration),
            )
            for h, c in zip(missing, map(wanted.__getitem__, missing), strict=True)
        ],
    )
    known.ids.update(new_ids)  # created with ever_real already right: never in known.plain
    return known
