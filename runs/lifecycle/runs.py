"""A test run's lifecycle: queued → running → passed / failed / error / cancelled / lost.

A queued run ends without running when its deploy failed (error), an operator cancels it, or
its deploy was lost. Uploads are created final and never move.
"""

from __future__ import annotations

from typing import Any

from runs import page_cache
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


class _RunMachine(Machine):
    """Ending a run changes what its service's pages show: their cached fragments go."""

    def move(self, rows: Any, to: str, **kwargs: Any) -> int:
        services: list[int] = []
        if str(to) in self.final and isinstance(rows, TestRun):
            services = [rows.service_id]
        elif str(to) in self.final:
            services = list(
                self._queryset(rows).values_list("service_id", flat=True).distinct().order_by()
            )
        moved = super().move(rows, to, **kwargs)
        if moved:
            for service_id in services:
                page_cache.generation_bump(service_id=service_id)
        return moved


run_lifecycle = _RunMachine(TestRun, ALLOWED, "run")
