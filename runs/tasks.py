"""Celery tasks of the runs app: thin adapters that take ids and call services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS, time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60)
def deploy_and_test(deploy_id: int) -> None:
    """Deploy, wait until healthy, run the suite, import and analyze: one deploy's whole chain."""
    from runs.services.pipeline import deploy_and_test_execute

    deploy_and_test_execute(deploy_id=deploy_id)


@shared_task(**TASK_OPTIONS, time_limit=600, soft_time_limit=570)
def run_analyze(run_id: int) -> None:
    """After an import: open draft analyses for new signatures and verify fixed ones."""
    from analyses.services.analyze import run_analyze_execute

    run_analyze_execute(run_id=run_id)


@shared_task(**TASK_OPTIONS, time_limit=120, soft_time_limit=100)
def runs_sweep() -> None:
    """Periodic: mark deploys and runs of dead workers lost; re-enqueue forgotten deploys."""
    from runs.services.sweeper import runs_sweep as sweep

    sweep()
