"""A test run's lifecycle: queued → running → passed / failed / error / cancelled / lost.

A queued run ends without running when its deploy failed (error), an operator cancels it, or
its deploy was lost. Uploads are created final and never move.
"""

from __future__ import annotations

from runs.lifecycle.machine import Machine
from runs.models import TestRun

S = TestRun.Status

ALLOWED = {
    S.QUEUED: {S.RUNNING, S.ERROR, S.CANCELLED, S.LOST},
    S.RUNNING: {S.PASSED, S.FAILED, S.ERROR, S.CANCELLED, S.LOST},
    S.PASSED: set(),
    S.FAILED: set(),
    S.ERROR: set(),
    S.CANCELLED: set(),
    S.LOST: set(),
}

run_lifecycle = Machine(TestRun, ALLOWED, "run")
