"""The suite runner: runs one test suite command as a process group and watches it.

Pure Python, no Django import: the task that calls it owns the database. All callbacks
(``on_start``, ``on_output``, ``on_event``, ``should_cancel``) are called on the caller's thread,
so they may use the caller's database connection.

What it promises:

- the command is an argument list, never a shell string;
- pytest commands get ``--junitxml=<junit_path> -p engine.pytest_progress`` appended; any other
  command finds the report path in ``STAGELOOP_JUNIT_PATH`` and may write JUnit XML there;
- the suite runs in its own session and process group; on run timeout, cancel, or once the main
  process has exited, the whole group gets SIGTERM, then SIGKILL after a short grace, and the call
  returns only when no process of the group is left (it also waits, briefly, for orphans to be
  reaped, so ``os.killpg(pgid, 0)`` raises ``ProcessLookupError`` afterwards). A descendant that
  starts its own session (``setsid``) escapes the group and is not tracked;
- the suite's environment is a small allowlist of this process's variables (PATH, HOME, locale,
  temp dir, proxies, CA bundles, virtualenv; ``engine.childenv``, shared with the deploy targets)
  plus what the caller passes: the dashboard's own secrets (database URL, secret key, cloud
  credentials) never leak into a suite.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.childenv import child_env
from engine.processes import group_start, group_stop, group_wait_gone

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN = "engine.pytest_progress"
TAIL_LINES = 50
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
REAP_WAIT = 5.0  # seconds to wait for killed processes, and orphans, to disappear
READER_JOIN = 2.0


class SuiteStartError(RuntimeError):
    """The suite's command could not be started at all (missing program, missing directory)."""


@dataclass
class RunnerResult:
    """How a suite run ended.

    ``exit_code`` is the command's exit status, or ``None`` when the runner stopped it (timeout
    or cancel). ``junit_path`` is set only if the report file exists and is not empty.
    ``output_tail`` holds the last lines of combined stdout/stderr.
    """

    exit_code: int | None
    junit_path: Path | None
    timed_out: bool
    cancelled: bool
    output_tail: str
    duration: float


def is_pytest_command(command: Sequence[str]) -> bool:
    """True if ``command`` runs pytest: a ``pytest``/``py.test`` program, or ``-m pytest``."""
    names = [Path(arg).name for arg in command]
    if any(name in ("pytest", "py.test", "pytest.exe") for name in names):
        return True
    return any(a == "-m" and b == "pytest" for a, b in itertools.pairwise(command))


def _suite_env(
    env: Mapping[str, str], events_path: Path, junit_path: Path, test_timeout: float | None
) -> dict[str, str]:
    """The suite's environment: allowlisted variables of ours, the caller's, the runner's."""
    own = {"STAGELOOP_EVENTS": str(events_path), "STAGELOOP_JUNIT_PATH": str(junit_path)}
    merged = child_env(env, own=own)
    if test_timeout is not None:
        merged["STAGELOOP_TEST_TIMEOUT"] = f"{test_timeout:g}"
    else:
        merged.pop("STAGELOOP_TEST_TIMEOUT", None)
    # the plugin lives in this repository, wherever the suite's working directory is
    pythonpath = merged.get("PYTHONPATH")
    merged["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), pythonpath]))
    # output reaches the log as it is printed, not when a buffer fills
    merged["PYTHONUNBUFFERED"] = "1"
    return merged


def _read_lines(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    """Reader thread: forward each output line, then ``None`` at end of stream."""
    try:
        for raw in iter(stream.readline, b""):
            lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    finally:
        lines.put(None)


class _EventTail:
    """Follows the events file, yielding each complete JSON line once."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            with self._path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        events = []
        for line in complete:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                logger.warning("Ignoring a malformed progress event line: %r", line[:200])
                continue
            if isinstance(event, dict):
                events.append(event)
        return events


def _kill_group(proc: subprocess.Popen, pgid: int) -> None:
    """Stop every process of the group and wait until none is left, orphans reaped included."""
    if not group_stop(pgid, grace=KILL_GRACE, kill_wait=REAP_WAIT, reap=proc.poll):
        logger.error("Process group %s still has live processes after SIGKILL", pgid)
    # orphaned members are reaped by init, which may take a moment
    if not group_wait_gone(pgid, timeout=REAP_WAIT, reap=proc.poll):
        logger.warning("Process group %s still has unreaped zombies", pgid)


def suite_execute(
    *,
    command: list[str],
    cwd: str | Path,
    env: dict[str, str],
    junit_path: Path,
    events_path: Path,
    run_timeout: float,
    test_timeout: float | None,
    on_output: Callable[[str], None],
    on_event: Callable[[dict], None],
    should_cancel: Callable[[], bool],
    poll_interval: float = 0.2,
    on_start: Callable[[int], None] | None = None,
) -> RunnerResult:
    """Run ``command`` in ``cwd`` until it exits, times out, or ``should_cancel()`` says so.

    Output lines go to ``on_output`` and progress events (from ``engine.pytest_progress``) to
    ``on_event`` as they come, at most ``poll_interval`` late; ``should_cancel`` is checked as
    often. ``on_start(pgid)`` is called once the suite runs, before anything waits on it, so the
    caller can record the group (and stop it if this process dies). When this returns, no
    process of the suite's group is left. Raises ``ValueError`` for a command that is not a
    non-empty list of strings, ``SuiteStartError`` if it cannot start.
    """
    if isinstance(command, str | bytes) or not command:
        raise ValueError(
            "The suite command must be a non-empty list of arguments, not a shell string: "
            f"{command!r}."
        )
    if not all(isinstance(arg, str) for arg in command):
        raise ValueError(f"Every argument of the suite command must be a string: {command!r}.")

    junit_path = Path(junit_path)
    events_path = Path(events_path)
    argv = list(command)
    if is_pytest_command(argv):
        argv += [f"--junitxml={junit_path}", "-p", PLUGIN]
    # a report or events left by an earlier run must not be mistaken for this run's
    junit_path.parent.mkdir(parents=True, exist_ok=True)
    junit_path.unlink(missing_ok=True)
    events_path.parent.mkdir(parents=True, exist_ok=True)
    events_path.write_bytes(b"")

    started = time.monotonic()
    try:
        proc = group_start(
            argv,
            cwd=cwd,
            env=_suite_env(env, events_path, junit_path, test_timeout),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except OSError as exc:
        raise SuiteStartError(
            f"Cannot start the suite command {argv[0]!r} in {cwd}: {exc.strerror or exc}."
        ) from exc
    pgid = proc.pid  # group_start: the child leads its own group
    if on_start is not None:
        try:
            on_start(pgid)
        except BaseException:
            _kill_group(proc, pgid)
            proc.wait()
            raise

    lines: queue.Queue[str | None] = queue.Queue()
    assert proc.stdout is not None
    reader = threading.Thread(
        target=_read_lines, args=(proc.stdout, lines), name=f"suite-output-{pgid}", daemon=True
    )
    reader.start()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    events = _EventTail(events_path)

    def deliver() -> None:
        while True:
            try:
                line = lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                tail.append(line)
                on_output(line)
        for event in events.read():
            on_event(event)

    def note(line: str) -> None:
        tail.append(line)
        on_output(line)

    timed_out = cancelled = False
    try:
        while True:
            deliver()
            if proc.poll() is not None:
                break
            if should_cancel():
                cancelled = True
                break
            if time.monotonic() - started >= run_timeout:
                timed_out = True
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=poll_interval)
    finally:
        # also after a normal exit: leftovers (a server a test started) must not outlive the run
        _kill_group(proc, pgid)
        proc.wait()
        reader.join(READER_JOIN)
        if reader.is_alive():
            # a process that left the group still holds the pipe; closing it would block on the
            # reader's lock, so the daemon reader is left to finish when that process exits
            logger.warning("Output of suite group %s is still open after the run", pgid)
        else:
            proc.stdout.close()

    deliver()
    if timed_out:
        note(f"[stageloop] run timeout: the suite was stopped after {run_timeout:g} s")
    if cancelled:
        note("[stageloop] cancelled: the suite was stopped on request")
    report = junit_path if junit_path.is_file() and junit_path.stat().st_size > 0 else None
    return RunnerResult(
        exit_code=None if (timed_out or cancelled) else proc.returncode,
        junit_path=report,
        timed_out=timed_out,
        cancelled=cancelled,
        output_tail="\n".join(tail),
        duration=time.monotonic() - started,
    )
