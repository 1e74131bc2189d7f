"""Stream a step's output into its row's log column: batched writes, only the tail kept."""

from __future__ import annotations

import time
from collections import deque

from django.db import models

LOG_TAIL_CHARS = 64_000


class LogBuffer:
    """Collects lines and writes the last LOG_TAIL_CHARS to `field` of one row, at most every
    `interval` seconds, so a chatty suite costs a few UPDATEs a second, not one per line."""

    def __init__(
        self,
        model: type[models.Model],
        pk: int,
        *,
        field: str = "log",
        initial: str = "",
        interval: float = 0.5,
    ) -> None:
        self.model, self.pk, self.field, self.interval = model, pk, field, interval
        self._lines: deque[str] = deque(initial.splitlines()[-2000:], maxlen=2000)
        self._dirty = False
        self._last = 0.0

    def write(self, line: str) -> None:
        self._lines.append(line.rstrip("\n"))
        self._dirty = True
        if time.monotonic() - self._last >= self.interval:
            self.flush()

    @property
    def text(self) -> str:
        return "\n".join(self._lines)[-LOG_TAIL_CHARS:]

    def tail(self, lines: int = 30) -> str:
        return "\n".join(list(self._lines)[-lines:])

    def flush(self) -> None:
        if self._dirty:
            self.model._default_manager.filter(pk=self.pk).update(**{self.field: self.text})
            self._dirty = False
        self._last = time.monotonic()
