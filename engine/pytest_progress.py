"""A pytest plugin that reports progress to the suite runner and enforces a per-test timeout.

Loaded by the runner with ``-p engine.pytest_progress``; it does nothing unless these are set:

- ``STAGELOOP_EVENTS``: a file path. The plugin appends one JSON object per line, each written
  and flushed whole, so a reader tailing the file sees complete lines:
  ``{"event": "collected", "total": N}`` once collection is done (after deselection);
  ``{"event": "test", "nodeid": ..., "outcome": ..., "duration": ...}`` once per finished test,
  with outcome ``passed``, ``failed``, ``error`` (setup or teardown failed) or ``skipped``, the
  duration in seconds summed over its phases (as JUnit XML reports it), and a one-line ``message``
  for failures and errors; ``{"event": "finished", "exitstatus": N}`` at the end of the session.
- ``STAGELOOP_TEST_TIMEOUT``: seconds. Each phase of a test (setup, call, teardown) that runs
  longer fails with ``Timeout: test exceeded N s`` and the session goes on with the next test.

The timeout uses ``SIGALRM`` (``signal.setitimer``), so it works only on POSIX and only when
tests run on the main thread, which is how pytest runs them; elsewhere it is silently off. A test
blocked inside C code that does not return to the interpreter is interrupted only when it does;
the runner's run timeout, which kills the whole process group, is the backstop for that.

When the plugin is active, SIGTERM (if nobody else handles it) interrupts the session like
Ctrl-C, so pytest still writes the JUnit report of the tests that finished before the runner
stopped the run.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, Any

import pytest

EVENTS_ENV = "STAGELOOP_EVENTS"
TIMEOUT_ENV = "STAGELOOP_TEST_TIMEOUT"
MAX_MESSAGE = 500


class TestTimeoutError(BaseException):
    """Raised in a test that ran past its time budget.

    A ``BaseException``, so that a test's own ``except Exception`` cannot swallow it; pytest still
    reports it as an ordinary failure of that test.
    """

    __test__ = False  # not a test class, despite the name


def _parse_timeout(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise pytest.UsageError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds.") from None
    return seconds if seconds > 0 else None


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def _alarm(seconds: float | None, what: str) -> Iterator[None]:
    """Raise ``TestTimeoutError`` in the main thread if the block runs longer than ``seconds``.

    An alarm that was already pending (another plugin's) is re-armed afterwards with what was
    left of it, so the two do not cancel each other.
    """
    if seconds is None or not _can_alarm():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise TestTimeoutError(f"Timeout: {what} exceeded {seconds:g} s")

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            remaining = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001), previous_interval)


def _short_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return first_line[:MAX_MESSAGE]


class ProgressReporter:
    """Writes the event lines and times test phases; registered once per session."""

    def __init__(self, events_path: Path | None, timeout: float | None) -> None:
        self.timeout = timeout
        self._file: IO[str] | None = None
        if events_path is not None:
            # line-buffered append: every event is one write of one complete line
            self._file = events_path.open("a", encoding="utf-8", buffering=1)
        self._pending: dict[str, dict[str, Any]] = {}

    def emit(self, event: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(event) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.emit({"event": "collected", "total": len(session.items)})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with _alarm(self.timeout, "test setup"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with _alarm(self.timeout, "test"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with _alarm(self.timeout, "test teardown"):
            return (yield)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self._pending.setdefault(
            report.nodeid, {"outcome": "passed", "duration": 0.0, "message": None}
        )
        state["duration"] += report.duration
        if report.when == "call":
            # xfail shows up here as "skipped", an unexpected pass of a strict xfail as "failed"
            state["outcome"] = report.outcome
        elif report.failed:
            state["outcome"] = "error"
        elif report.skipped and report.when == "setup":
            state["outcome"] = "skipped"
        if report.failed and state["message"] is None:
            state["message"] = _short_message(report)

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        state = self._pending.pop(nodeid, None)
        if state is None:
            return
        event: dict[str, Any] = {
            "event": "test",
            "nodeid": nodeid,
            "outcome": state["outcome"],
            "duration": round(state["duration"], 6),
        }
        if state["message"]:
            event["message"] = state["message"]
        self.emit(event)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.emit({"event": "finished", "exitstatus": int(exitstatus)})


_PLUGIN_NAME = "stageloop-progress"
_previous_sigterm: Any = None


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt("stopped by SIGTERM")


def pytest_configure(config: pytest.Config) -> None:
    """Register the reporter when the runner asked for events or a per-test timeout."""
    global _previous_sigterm
    raw_events = os.environ.get(EVENTS_ENV)
    timeout = _parse_timeout(os.environ.get(TIMEOUT_ENV))
    # under xdist, only the controller reports, so each test is counted once
    if hasattr(config, "workerinput") and raw_events:
        raw_events = None
    if not raw_events and timeout is None:
        return
    events_path = Path(raw_events) if raw_events else None
    config.pluginmanager.register(ProgressReporter(events_path, timeout), _PLUGIN_NAME)
    if _can_alarm() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        _previous_sigterm = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _previous_sigterm
    reporter = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    if isinstance(reporter, ProgressReporter):
        reporter.close()
        config.pluginmanager.unregister(reporter, _PLUGIN_NAME)
    if _previous_sigterm is not None:
        signal.signal(signal.SIGTERM, _previous_sigterm)
        _previous_sigterm = None
