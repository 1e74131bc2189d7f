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
# The importer's columns: these and the ones only a JUnit report fills (the database defaults
# fill them for the other writers).
IMPORT_COLUMNS = (*RESULT_COLUMNS, "error_output", "attempt_log")


def copy_text(value: str) -> str:
    """A string as one field of PostgreSQL's COPY text format (NUL, which text cannot hold,
    becomes U+FFFD)."""
    # Most fields need no escape: five substring scans in C are many times cheaper than
    # str.translate (a dict lookup per character), and chained replace beats it otherwise.
    if not value:
        return ""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value or "\x00" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\x00", "\ufffd")
        )
    return value


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY lines already in PostgreSQL's text format (tab-separated, newline-ended) into
    `table`, in chunks: much cheaper than one write_row call per row for wide imports."""
    names = ", ".join(columns)
    chunk: list[str] = []
    sql = f"COPY {table} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for line in lines:
            chunk.append(line)
            if len(chunk) == 5000:
                copy.write("".join(chunk))
                chunk = []
        if chunk:
            copy.write("".join(chunk))


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
