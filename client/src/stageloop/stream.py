"""Stream results into a live run from a background thread: batches about every second, at most
one request in flight, never holding the suite up."""

from __future__ import annotations

import threading
import time
from typing import Any

from stageloop.api import Api, ClientError, Settings

BATCH_MAX = 5000  # the server's limit per call
INTERVAL = 1.0
# The server ends a live run that hears nothing for 10 minutes; an empty call keeps it.
KEEPALIVE = 120.0
BUFFER_MAX = 100_000  # beyond this, a server that does not answer loses the oldest results


class Streamer:
    def __init__(self, settings: Settings, run_id: int, expected: int | None = None) -> None:
        self._path = f"/runs/{run_id}/results"
        # The collected count, sent until a call carrying it succeeds: the page's progress total.
        self._expected = expected
        # One quick try per batch: a failed batch waits for the next tick, not for a backoff.
        self._api = Api(Settings(settings.url, settings.token, retries=0, timeout=10))
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._stopped = False
        self.sent = 0
        self.problem = ""
        self._thread = threading.Thread(target=self._loop, name="stageloop-stream", daemon=True)
        self._thread.start()

    def add(self, result: dict[str, Any]) -> None:
        """Queue one result; cheap, called from pytest's own thread."""
        with self._lock:
            if self._stopped:
                return
            self._pending.append(result)
            if len(self._pending) > BUFFER_MAX:
                del self._pending[: len(self._pending) - BUFFER_MAX]

    def close(self, timeout: float = 5.0) -> None:
        """Stop once the request in flight, if any, has ended (at most `timeout` seconds).

        What is still queued is not sent: the final report, which `stageloop run` finishes
        the run with moments later, replaces the streamed results anyway.
        """
        with self._lock:
            self._stopped = True
            self._pending.clear()
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self._api.close()

    def _loop(self) -> None:
        last = time.monotonic()
        while True:
            self._wake.wait(INTERVAL)
            stopping = self._stopping
            with self._lock:
                batch = self._pending[:BATCH_MAX]
            now = time.monotonic()
            if batch or now - last >= KEEPALIVE:
                if not self._send(batch):
                    if stopping or self._stopped:
                        return
                    continue
                last = now
                with self._lock:
                    del self._pending[: len(batch)]
                    more = bool(self._pending)
                if more:
                    continue
            if stopping:
                return

    def _send(self, batch: list[dict[str, Any]]) -> bool:
        try:
            body: dict[str, Any] = {"results": batch}
            if self._expected is not None:
                body["expected"] = self._expected
            self._api.post(self._path, body)
        except ClientError as exc:
            self.problem = str(exc)
            if getattr(exc, "status", 0) in (400, 401, 403, 404, 409):
                # The run ended or refuses us: streaming is over; the report still counts.
                with self._lock:
                    self._stopped = True
                    self._pending.clear()
                self._stopping = True
            return False
        self.sent += len(batch)
        self._expected = None
        return True
