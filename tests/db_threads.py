"""Helpers for tests that hold one database transaction open while another waits on it
(PostgreSQL): work in a thread with its own connection, and a look at pg_stat_activity."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connections


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    """Start `work` in a thread (its own database connection, closed at the end); the list
    receives what it raised, for the test to assert on."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


def waits_on_a_lock(query_start: str, *, seconds: float = 20) -> bool:
    """Whether, within `seconds`, another backend of this database waits on a lock in a query
    starting with `query_start`."""
    deadline = time.monotonic() + seconds
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND datname = current_database() AND wait_event_type = 'Lock' "
                "AND query ILIKE %s",
                [f"{query_start}%"],
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False
