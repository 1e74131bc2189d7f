"""Bulk writes that the ORM makes slow: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

# The columns of runs_testresult that the importer and the history seeder write, in COPY order.
RESULT_COLUMNS = (
    "run_id",
    "case_id",
    "outcome",
    "duration",
    "message",
    "details",
    "output",
    "attempts",
    "flaky",
    "signature_id",
)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def rows_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert `rows` into `table`: COPY on PostgreSQL, batched executemany on SQLite.

    `table` and `columns` come from our own code, never from input.
    """
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if is_postgres():
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        batch: list[Sequence] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)  # noqa: S608
                batch = []
        if batch:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)  # noqa: S608
