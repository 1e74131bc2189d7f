"""Celery tasks of the runs app: thin adapters that take ids and call services.

Each is registered under the name runs.services.enqueue sends it by; those are the names queued
messages carry, so they stay fixed when a function is renamed.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from runs.services import enqueue
from runs.services.attachments import attachments_prune as prune
from runs.services.case_search import case_search_index as search_index
from runs.services.case_search import case_search_pending_left as search_pending_left
from runs.services.pipeline import deploy_and_test_execute, revision_test_execute
from runs.services.retention import retention_pass as retention
from runs.services.rollback import rollback_execute
from runs.services.schedules import schedules_tick as tick
from runs.services.sweeper import runs_sweep as sweep

TASK_OPTIONS: dict[str, Any] = {"acks_late": True, "ignore_result": True}


@shared_task(
    **TASK_OPTIONS,
    name=enqueue.DEPLOY_AND_TEST,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
)
def deploy_and_test(deploy_id: int) -> None:
    """Deploy, wait until healthy, run the suite, import and analyze: one deploy's whole chain."""
    deploy_and_test_execute(deploy_id=deploy_id)


@shared_task(**TASK_OPTIONS, name=enqueue.ROLLBACK, time_limit=3600, soft_time_limit=3540)
def rollback(deploy_id: int) -> None:
    """Send all traffic back to the rollback deploy's revision, on the target."""
    rollback_execute(deploy_id=deploy_id)


@shared_task(**TASK_OPTIONS, name=enqueue.RUNS_SWEEP, time_limit=120, soft_time_limit=100)
def runs_sweep() -> None:
    """Periodic: mark deploys and runs of dead workers lost; re-enqueue forgotten deploys."""
    sweep()


@shared_task(
    **TASK_OPTIONS, name="runs.tasks.attachments_prune", time_limit=600, soft_time_limit=540
)
def attachments_prune() -> int:
    """Periodic (hourly): delete attachments past STAGELOOP_ATTACHMENT_RETENTION_DAYS."""
    return prune(now=timezone.now())


@shared_task(
    **TASK_OPTIONS,
    name="runs.tasks.retention_pass",
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
)
def retention_pass() -> int:
    """Periodic (nightly): delete runs past their suite's retention policy; how many."""
    record = retention(now=timezone.now())
    return record.runs_deleted if record is not None else 0


@shared_task(**TASK_OPTIONS, name=enqueue.SCHEDULES_TICK, time_limit=120, soft_time_limit=100)
def schedules_tick() -> int:
    """Periodic: start the runs of suites whose schedule is due (or record why not); how many."""
    return len(tick(now=timezone.now()).started)


@shared_task(
    **TASK_OPTIONS,
    name=enqueue.REVISION_TEST,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
)
def revision_test(run_id: int) -> None:
    """Run a queued test-only run (a scheduled one) against its revision, import, analyze."""
    revision_test_execute(run_id=run_id)


@shared_task(
    **TASK_OPTIONS,
    bind=True,
    name=enqueue.CASE_SEARCH_INDEX,
    max_retries=10,
    time_limit=600,
    soft_time_limit=570,
)
def case_search_index(self, suite_id: int) -> int:
    """Put the tests an import created into the search indexes, after it commits; how many.
    Tests an import held locked are left for a retry a minute later (search finds them
    meanwhile, through the pending index)."""
    done = search_index(suite_id=suite_id)
    if search_pending_left(suite_id=suite_id):
        raise self.retry(countdown=60)
    return done
