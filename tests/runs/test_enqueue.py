"""The enqueue module names tasks by string: every name it sends must be a registered task."""

from __future__ import annotations

from analyses import tasks as analyses_tasks
from dashboard.celery import app
from runs import tasks
from runs.services import enqueue


def test_every_task_name_the_enqueue_module_sends_is_registered():
    names = [
        enqueue.DEPLOY_AND_TEST,
        enqueue.RUN_ANALYZE,
        enqueue.RUNS_SWEEP,
        enqueue.ROLLBACK,
        enqueue.SCHEDULES_TICK,
        enqueue.REVISION_TEST,
        enqueue.CASE_SEARCH_INDEX,
    ]

    registered = {name: app.tasks[name] for name in names}

    assert registered == {
        "runs.tasks.deploy_and_test": tasks.deploy_and_test,
        "runs.tasks.run_analyze": analyses_tasks.run_analyze,
        "runs.tasks.runs_sweep": tasks.runs_sweep,
        "runs.tasks.rollback": tasks.rollback,
        "runs.tasks.schedules_tick": tasks.schedules_tick,
        "runs.tasks.revision_test": tasks.revision_test,
        "runs.tasks.case_search_index": tasks.case_search_index,
    }
