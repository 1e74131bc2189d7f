"""All enqueueing of runs' work, and the only place in the code a task is named.

The arrows go tasks → services → enqueue. A task is a thin adapter over a service, and services
enqueue tasks (a new deploy its chain, an import its analysis, an ended loop iteration the next
deploy), so importing the task objects here would close the cycle tasks → services → tasks.
This module sends each task by the name runs.tasks registers it under instead (a test checks
every name here is registered). Beat entries name theirs in settings.CELERY_BEAT_SCHEDULE.

The names are the ones queued messages carry: never change one without keeping an alias.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

DEPLOY_AND_TEST = "runs.tasks.deploy_and_test"
RUN_ANALYZE = "runs.tasks.run_analyze"
RUNS_SWEEP = "runs.tasks.runs_sweep"  # sent by the beat only
ROLLBACK = "runs.tasks.rollback"


def deploy_and_test_enqueue(*, deploy_id: int) -> None:
    """Send a deploy's whole chain once the transaction that wrote its rows commits."""
    _enqueue_on_commit(DEPLOY_AND_TEST, deploy_id)


def deploy_and_test_send(*, deploy_id: int) -> None:
    """Send a deploy's chain now, outside any transaction; raises if the broker is unreachable."""
    current_app.send_task(DEPLOY_AND_TEST, args=(deploy_id,))


def rollback_enqueue(*, deploy_id: int) -> None:
    """Send a rollback deploy once the transaction that created it commits."""
    _enqueue_on_commit(ROLLBACK, deploy_id)


def run_analyze_enqueue(*, run_id: int) -> None:
    """Send a run's analyze step once the transaction that imported its results commits."""
    _enqueue_on_commit(RUN_ANALYZE, run_id)


def _enqueue_on_commit(name: str, *args: int) -> None:
    """Send task `name` after commit. If the broker is down, the rows stay queued and the
    request still succeeds: the sweeper sends queued work again (runs.services.sweeper)."""

    def send() -> None:
        try:
            current_app.send_task(name, args=args)
        except Exception:  # kombu raises several kinds for an unreachable broker
            logger.exception("could not enqueue %s%s; the sweeper will retry", name, args)

    transaction.on_commit(send)
