"""A test run's lifecycle: queued → running → passed / failed / error / cancelled / lost.

A queued run ends without running when its deploy failed (error), an operator cancels it, or
its deploy was lost. Uploads are created final and never move.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from runs import page_cache
from runs.integrations_seam import commit_statuses_for_runs, commit_statuses_on
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
    """Ending a run changes what its service's pages show: their cached fragments go. Every move
    may post a commit status (integrations, through the seam; in the mover's transaction)."""

    def move(self, rows: Any, to: str, **kwargs: Any) -> int:
        services: list[int] = []
        if str(to) in self.final and isinstance(rows, TestRun):
            services = [rows.service_id]
        elif str(to) in self.final:
            services = list(
                self._queryset(rows).values_list("service_id", flat=True).distinct().order_by()
            )
        run_ids = self._ids(rows, to) if commit_statuses_on() else []
        moved = super().move(rows, to, **kwargs)
        if moved:
            for service_id in services:
                page_cache.generation_bump(service_id=service_id)
            if run_ids:
                commit_statuses_for_runs(run_ids=run_ids, status=str(to))
        return moved

    def _ids(self, rows: Any, to: str) -> list[int]:
        if isinstance(rows, TestRun):
            return [rows.pk]
        if isinstance(rows, models.QuerySet):
            return list(rows.exclude(status=to).values_list("pk", flat=True))
        return [rows]


run_lifecycle = _RunMachine(TestRun, ALLOWED, "run")
