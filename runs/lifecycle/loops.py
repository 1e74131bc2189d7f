"""A loop's lifecycle: running ⇄ waiting → succeeded / exhausted / cancelled.

Running → running is allowed: each new iteration is started from a running loop (the previous
iteration just ended) or from a waiting one (a build arrived).
"""

from __future__ import annotations

from runs.lifecycle.machine import Machine
from runs.models import Loop

S = Loop.Status

ALLOWED = {
    S.RUNNING: {S.RUNNING, S.WAITING, S.SUCCEEDED, S.EXHAUSTED, S.CANCELLED},
    S.WAITING: {S.RUNNING, S.CANCELLED},
    S.SUCCEEDED: set(),
    S.EXHAUSTED: set(),
    S.CANCELLED: set(),
}

loop_lifecycle = Machine(Loop, ALLOWED, "loop")
