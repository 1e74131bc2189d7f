"""A deploy's lifecycle: queued → running → succeeded / failed / cancelled / lost.

A queued deploy can end without running: cancelled by an operator, or lost when its service is
freed by the sweeper. Every final state is final.
"""

from __future__ import annotations

from runs.lifecycle.machine import Machine
from runs.models import Deploy

S = Deploy.Status

ALLOWED = {
    S.QUEUED: {S.RUNNING, S.CANCELLED, S.FAILED, S.LOST},
    S.RUNNING: {S.SUCCEEDED, S.FAILED, S.CANCELLED, S.LOST},
    S.SUCCEEDED: set(),
    S.FAILED: set(),
    S.CANCELLED: set(),
    S.LOST: set(),
}

deploy_lifecycle = Machine(Deploy, ALLOWED, "deploy")
