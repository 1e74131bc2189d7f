"""Reads that PostgreSQL must not hand to parallel workers.

The pages' reads touch a few thousand rollup rows, yet the planner prices scattered heap pages
and JSON unnesting high enough to plan a Gather with two workers. Starting those workers costs
more than the read itself, and on a busy 2-core machine it took 20-60 ms per query (measured on
the status page: three SLO queries of ~4 ms of work each spent ~65 ms in Gather Merge).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def serial_reads() -> Iterator[None]:
    """Run the queries inside without parallel workers (PostgreSQL; nothing elsewhere). The
    setting is ``SET LOCAL``: it ends with the transaction this opens (or the one around it)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
