"""PostgreSQL for the tests: Django's backend, with a cheaper flush after each transactional test.

Django empties the tables after every transactional test (live servers, workers, browsers) with
one ``TRUNCATE`` of every table; on PostgreSQL that makes a new file for each table and index
(about 150 relations here) and took ~1 s per test on a quiet machine, several under load. The
tables hold a few rows by then, so ``DELETE`` in one transaction empties them in milliseconds.
Foreign keys are ``DEFERRABLE INITIALLY DEFERRED`` (Django's), so the order does not matter.
Everything else, the server included, is the real one.
"""

from __future__ import annotations

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # type: ignore[no-untyped-def]
        if reset_sequences or allow_cascade or not tables:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};"
            for t in tables
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
