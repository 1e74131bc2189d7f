"""Test cases for an import: the suite's known ones read ahead, new ones created batch by batch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, connections
from django.utils import timezone

from engine.junit import ParsedCase
from runs.models import Suite, TestCase
from runs.models.testing import is_real
from runs.reports_seam import capability_cases_map
from runs.services.bulk import copy_lines, copy_text, is_postgres

logger = logging.getLogger(__name__)
_QUERY = f"SELECT key_hash, id, ever_real FROM {TestCase._meta.db_table} WHERE suite_id = %s"  # noqa: S608
# Beyond this many known cases the read-ahead is dropped and each batch looks its cases up
# (one indexed query per batch): a dict of hashes costs about 350 bytes a case (35 MB at
# 100,000), and the import promises flat memory.
PREFETCH_MAX = 20_000


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
    starts parsing: on PostgreSQL the read and the parse then overlap instead of adding up.

    The result is a hint, never the truth: `CaseResolver` re-reads every row newer than the
    newest one seen here inside the import's own transaction. None (a suite of more than
    PREFETCH_MAX cases, SQLite, or a failed read) means: look the cases up batch by batch.
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
                # Counted first (on the index alone): fetching a big suite's rows only to drop
                # them would leave their memory to this thread's malloc arena.
                cursor.execute(
                    f"SELECT count(*) FROM ({_QUERY} LIMIT %s) AS known",  # noqa: S608
                    [suite_id, PREFETCH_MAX + 1],
                )
                if cursor.fetchone()[0] <= PREFETCH_MAX:
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


class _Created:
    """A 2 MB Bloom filter of the key hashes this import created: a miss proves a hash new
    to the suite without a query or a per-key dict; a hit (or a false one, about 1 in 400
    at 1,000,000 cases) is looked up in the database."""

    _BITS = 1 << 24

    def __init__(self) -> None:
        self._bits = bytearray(self._BITS >> 3)

    def add(self, key_hash: str) -> None:
        bits, value = self._bits, int(key_hash[:24], 16)  # four 24-bit slots of the sha1
        for _ in range(4):
            slot = value & 0xFFFFFF
            bits[slot >> 3] |= 1 << (slot & 7)
            value >>= 24

    def __contains__(self, key_hash: str) -> bool:
        bits, value = self._bits, int(key_hash[:24], 16)
        for _ in range(4):
            slot = value & 0xFFFFFF
            if not bits[slot >> 3] & (1 << (slot & 7)):
                return False
            value >>= 24
        return True


class CaseResolver:
    """Gives the cases of each batch their TestCase ids, creating the suite's unknown ones
    (with ever_real from this report), in memory bounded by the read-ahead, never by the
    report: cases this import creates are remembered in a fixed-size filter only."""

    def __init__(self, *, suite: Suite, prefetched: CaseIds | None) -> None:
        self.suite = suite
        self.now = timezone.now()
        self._known = prefetched
        if prefetched is not None:
            prefetched.add(_newer(suite, max(prefetched.ids.values(), default=0)))
        self._created = _Created()
        # Cases this import created for search to index after it commits (PostgreSQL only;
        # SQLite's FTS5 triggers index them as they are inserted).
        self.search_pending = 0

    def resolve(self, batch: Sequence[tuple[ParsedCase, str]]) -> tuple[dict[str, int], set[int]]:
        """Return key_hash -> id for every case of `batch` (case, key_hash), and the ids
        among them of cases that existed before this import and are not yet known real."""
        wanted: dict[str, ParsedCase] = {}
        for case, key_hash in batch:
            wanted.setdefault(key_hash, case)
        ids: dict[str, int] = {}
        plain: set[int] = set()
        ask: list[str] = []
        known = self._known
        for key_hash in wanted:
            pk = known.ids.get(key_hash) if known is not None else None
            if pk is not None:
                ids[key_hash] = pk
                if pk in known.plain:  # type: ignore[union-attr]
                    plain.add(pk)
            elif known is None or key_hash in self._created:
                ask.append(key_hash)
        if ask:
            found = _lookup(self.suite, ask)
            ids.update(found.ids)
            plain |= found.plain
        missing = [h for h in wanted if h not in ids]
        if missing:
            ids.update(self._create(missing, wanted))
        # Cases created by this import came in with ever_real already right: never plain.
        return ids, plain

    def _create(self, missing: list[str], wanted: dict[str, ParsedCase]) -> dict[str, int]:
        # In key_hash order, a new suite's entries append to the right edge of the unique
        # index instead of splitting pages all over it.
        missing.sort()
        for key_hash in missing:
            self._created.add(key_hash)
        if is_postgres():
            self.search_pending += len(missing)
            return _create_postgres(self.suite, missing, wanted, self.now)
        TestCase.objects.bulk_create(
            [
                TestCase(
                    suite=self.suite,
                    key=c.key,
                    key_hash=h,
                    name=c.name,
                    classname=c.classname,
                    file=c.file,
                    first_seen_at=self.now,
                    ever_real=is_real(c.outcome, c.duration),
                )
                for h, c in zip(missing, map(wanted.__getitem__, missing), strict=True)
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        ids = _lookup(self.suite, missing).ids
        # SQLite has no pending cases: they are mapped to the capabilities as they are made.
        capability_cases_map(case_ids=list(ids.values()))
        return ids


def _lookup(suite: Suite, hashes: list[str]) -> CaseIds:
    found = CaseIds()
    if is_postgres():
        with connection.cursor() as cursor:
            # One text parameter, not a list: psycopg adapting 2,000 strings one by one cost
            # as much as the index probes (a suite that knows its tests looks up every case).
            cursor.execute(
                _QUERY + " AND key_hash = ANY(string_to_array(%s, ','))",
                [suite.pk, ",".join(hashes)],
            )
            found.add(cursor.fetchall())
        return found
    for start in range(0, len(hashes), 900):
        found.add(
            TestCase.objects.filter(
                suite=suite, key_hash__in=hashes[start : start + 900]
            ).values_list("key_hash", "id", "ever_real")
        )
    return found


def _newer(suite: Suite, after: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_QUERY + " AND id > %s", [suite.pk, after])
        return cursor.fetchall()


def _create_postgres(
    suite: Suite, missing: list[str], wanted: dict[str, ParsedCase], now: datetime
) -> dict[str, int]:
    """COPY the missing cases in with ids reserved from the table's sequence in one statement.

    They are written search_pending: runs.services.case_search indexes them after the commit.

    Reserving a block (nextval, then setval past it) is not atomic against another session's
    nextval in between; such a clash, and a concurrent import inserting one of these keys
    first, both end in a unique violation that fails this transaction, and run_import retries.
    """
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
    text, stamp, pk = copy_text, now.isoformat(), suite.pk
    copy_lines(
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
            "search_pending",
        ),
        (
            f"{new_ids[h]}\t{pk}\t{text(c.key)}\t{h}\t{text(c.name)}\t{text(c.classname)}\t"
            f"{text(c.file)}\t{stamp}\t{'t' if is_real(c.outcome, c.duration) else 'f'}\tt\n"
            for h, c in zip(missing, map(wanted.__getitem__, missing), strict=True)
        ),
    )
    return new_ids
