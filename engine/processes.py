"""Process groups: start a command as the leader of its own group, and stop the whole group.

The suite runner and the deploy targets that run processes (local, command) all use these, so a
suite, a deployed service and a deploy command stop the same way: SIGTERM to every process of the
group, a grace period, SIGKILL, then wait until no live process is left. Zombies count as gone:
they only wait for their parent (or init) to reap them, and no signal hurries that.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Reap = Callable[[], object]

POLL = 0.05  # seconds between two looks at a group


def group_start(argv: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session: the child leads its own group, so ``pgid == proc.pid``.

    Keyword arguments go to ``subprocess.Popen``; ``OSError`` when the command cannot start.
    """
    return subprocess.Popen(list(argv), start_new_session=True, **popen)


def group_exists(pgid: int) -> bool:
    """True while group ``pgid`` has any process, zombies included."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_alive(pgid: int, *, reap: Reap | None = None) -> bool:
    """True while group ``pgid`` has a process that is not a zombie.

    ``reap`` collects the group's leader if it is our child and has ended (``proc.poll`` of its
    ``Popen``); without one, the leader is reaped with ``waitpid`` when it is our child.
    """
    (reap or (lambda: _reap_child(pgid)))()
    if not group_exists(pgid):
        return False
    return _has_live_member(pgid)


def group_is_led_by(pid: int) -> bool:
    """True if ``pid`` still leads its own group, i.e. it was not reused by another program."""
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def group_stop(
    pgid: int, *, grace: float, kill_wait: float = 5.0, reap: Reap | None = None
) -> bool:
    """Stop every process of group ``pgid``: SIGTERM, up to ``grace`` seconds, then SIGKILL and
    up to ``kill_wait`` seconds more. True when no live process of the group is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, kill_wait)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return True
        if _wait(lambda: not group_alive(pgid, reap=reap), wait):
            return True
    return False


def group_wait_gone(pgid: int, *, timeout: float, reap: Reap | None = None) -> bool:
    """Wait up to ``timeout`` seconds until group ``pgid`` has no process at all (its orphaned
    zombies reaped by init); True if it is gone."""

    def gone() -> bool:
        (reap or (lambda: _reap_child(pgid)))()
        return not group_exists(pgid)

    return _wait(gone, timeout)


def _wait(done: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if done():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


def _reap_child(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # a zombie child of ours would otherwise look alive


def _has_live_member(pgid: int) -> bool:
    """On Linux, look for a member that is not a zombie; elsewhere the group counts as alive."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # Fields after the ")" that closes the command name: state, ppid, pgrp, ...
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        if int(pgrp) == pgid and state not in ("Z", "X"):
            return True
    return False
