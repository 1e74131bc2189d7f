"""Celery tasks of the runs app: thin adapters that take ids and call services."""

from __future__ import annotations

from celery import shared_task

TASK_OPTIONS = {"acks_late": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS, time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60)
def deploy_and_test(deploy_id: int) -> None:
    """Deploy, wait until healthy, run the suite, import and analyze: one deploy's whole chain."""
    from runs.services.pipeline import deploy_and_test_execute

    deploy_and_test_execute(deploy_id=deploy_id)
