"""All enqueueing of runs' work, and the only place in the code a task is named.

The arrows go tasks → services → enqueue. A task is a thin adapter over a service, and services
enqueue tasks (a new deploy its chain, an import its analysis, an ended loop iteration the next
deploy), so importing the task objects here would close the cycle tasks → services → tasks.
This module sends each task by the name runs.tasks registers it under instead (a test checks
every name here is registered). Beat entries name theirs in settings.CELERY_BEAT_SCHEDULE.

Every message goes through the outbox (runs.services.outbox): written in the caller's
transaction, sent on commit, and sent again by the sweeper if the broker was down.

The names are the ones queued messages carry: never change one without keeping an alias.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from runs.models import Outbox
from runs.services.outbox import outbox_pending, outbox_send, outbox_write

DEPLOY_AND_TEST = "runs.tasks.deploy_and_test"
RUN_ANALYZE = "runs.tasks.run_analyze"
RUNS_SWEEP = "runs.tasks.runs_sweep"  # sent by the beat only
ROLLBACK = "runs.tasks.rollback"
# Suite schedules: the beat's tick (sent by the beat only) and the test-only run it starts.
SCHEDULES_TICK = "runs.tasks.schedules_tick"
REVISION_TEST = "runs.tasks.revision_test"
CASE_SEARCH_INDEX = "runs.tasks.case_search_index"

# A queued deploy's chain is sent again at most this often while nothing claims it.
RESEND_AFTER = timedelta(minutes=2)


def deploy_and_test_enqueue(*, deploy_id: int) -> None:
    """Send a deploy's whole chain once the transaction that wrote its rows commits."""
    _enqueue_on_commit(DEPLOY_AND_TEST, deploy_id)


def deploy_and_test_send(*, deploy_id: int) -> bool:
    """Send a queued deploy's chain again (the sweeper, when its message was lost), through the
    outbox: sent now, or by the sweeper once the broker is back.

    Returns False, writing nothing, while an earlier message for the deploy is unsent or was
    sent less than RESEND_AFTER ago: an outage does not pile up copies.
    """
    key = Outbox.key_for(DEPLOY_AND_TEST, [deploy_id])
    if outbox_pending(key=key, since=timezone.now() - RESEND_AFTER):
        return False
    _enqueue_on_commit(DEPLOY_AND_TEST, deploy_id)
    return True


def rollback_enqueue(*, deploy_id: int) -> None:
    """Send a rollback deploy once the transaction that created it commits."""
    _enqueue_on_commit(ROLLBACK, deploy_id)


def revision_test_enqueue(*, run_id: int) -> None:
    """Send a queued test-only run (a scheduled one) once the transaction that created it
    commits."""
    _enqueue_on_commit(REVISION_TEST, run_id)


def revision_test_send(*, run_id: int) -> bool:
    """Send a test-only run still queued again (its message was lost), through the outbox; as
    deploy_and_test_send, False and nothing written while an earlier message is recent."""
    key = Outbox.key_for(REVISION_TEST, [run_id])
    if outbox_pending(key=key, since=timezone.now() - RESEND_AFTER):
        return False
    _enqueue_on_commit(REVISION_TEST, run_id)
    return True


def run_analyze_enqueue(*, run_id: int) -> None:
    """Send a run's analyze step once the transaction that imported its results commits."""
    _enqueue_on_commit(RUN_ANALYZE, run_id)


def case_search_index_enqueue(*, suite_id: int) -> None:
    """Index the suite's new tests for search once the import that created them commits."""
    _enqueue_on_commit(CASE_SEARCH_INDEX, suite_id)


def _enqueue_on_commit(name: str, *args: int) -> None:
    """Write an outbox message for task `name` in the current transaction and send it after
    commit. If the broker is down the message stays unsent and the request still succeeds: the
    sweeper sends it again (runs.services.outbox.outbox_flush). Outside a transaction the message
    is written and sent at once."""
    message = outbox_write(task=name, args=list(args))
    transaction.on_commit(partial(outbox_send, message))
