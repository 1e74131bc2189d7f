"""The report's cases are parsed in a thread ahead of the writer: every case in order, the
parse's error raised in the writer's thread after the cases before it, and no thread left
behind when the writer stops early."""

from __future__ import annotations

import threading
from contextlib import closing

import pytest

from runs.services.ingest_ahead import read_ahead


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_every_item_comes_in_order_across_chunks():
    assert list(read_ahead(range(10_007), chunk=100, ahead=2)) == list(range(10_007))


def test_an_empty_source_yields_nothing():
    assert list(read_ahead([], chunk=3)) == []


def test_an_error_while_reading_is_raised_after_the_items_before_it():
    def items():
        yield from range(5)
        raise ValueError("broken at 5")

    got: list[int] = []
    with pytest.raises(ValueError, match="broken at 5"):
        for item in read_ahead(items(), chunk=2):
            got.append(item)

    assert got == [0, 1, 2, 3, 4]
    assert "report-read-ahead" not in _threads()


def test_a_consumer_that_stops_early_stops_the_reading_thread():
    read: list[int] = []

    def endless():
        n = 0
        while True:
            read.append(n)
            yield n
            n += 1

    with closing(read_ahead(endless(), chunk=10, ahead=2)) as ahead:
        for item in ahead:
            if item == 25:
                break

    assert "report-read-ahead" not in _threads()
    # Three chunks taken, two queued, one in the thread's hands: the reading stopped there.
    assert len(read) <= 10 * (3 + 2 + 1)
