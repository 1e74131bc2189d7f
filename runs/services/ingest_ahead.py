"""A report parsed in a thread a few thousand cases ahead of the writer.

The writer spends most of an import waiting for the database (a COPY of each batch); the parse
is pure Python. Run apart, the two overlap: while the main thread waits on its socket (the GIL
released), the parse thread reads the next cases. The queue between them is bounded, so memory
stays flat whatever the report's size, and an error in the report is raised in the writer's
thread, where the import's transaction rolls it back.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable
from queue import Empty, Full, Queue
from typing import TypeVar

T = TypeVar("T")

# Cases handed over at a time, and handovers in flight: at most 500 parsed cases wait. 4,000
# raised the import's peak RSS by 6 MB at 100,000 cases (bench/ingest.py); 500 by 1 MB.
CHUNK = 250
AHEAD = 2
_END = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def read_ahead(
    items: Iterable[T], *, chunk: int = CHUNK, ahead: int = AHEAD
) -> Generator[T, None, None]:
    """Yield `items` in order, iterated by a thread at most `chunk * ahead` items ahead.

    An exception the iteration raises is raised here, after the items before it. Closing this
    generator early (the caller failed) stops the thread and waits for it.
    """
    queue: Queue = Queue(maxsize=ahead)
    stop = threading.Event()

    def hand(value: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(value, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        held: list[T] = []
        try:
            for item in items:
                held.append(item)
                if len(held) == chunk:
                    if not hand(held):
                        return
                    held = []
        except BaseException as exc:  # handed to the consumer, raised there
            if hand(held):
                hand(_Failed(exc))
            return
        if hand(held):
            hand(_END)

    thread = threading.Thread(target=produce, name="report-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            got = queue.get()
            if got is _END:
                return
            if isinstance(got, _Failed):
                raise got.exc
            yield from got
    finally:
        stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                break
        thread.join()
