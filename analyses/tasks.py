"""Celery tasks of the analyses app: thin adapters that take ids and call services.

Registered under the names runs.services.enqueue sends them by (the analyze task kept its
historical name, runs.tasks.run_analyze, so messages already queued still find it)."""

from __future__ import annotations

from celery import shared_task

from analyses.services.analyses import action_items_overdue_notify
from analyses.services.analyze import run_analyze_execute
from runs.services import enqueue
from runs.services.gates import gate_evaluate_run
from runs.services.states import test_states_judge_run
from runs.services.suite_tree_rollup import suite_tree_refresh
from runs.tasks import TASK_OPTIONS


@shared_task(**TASK_OPTIONS, name=enqueue.RUN_ANALYZE, time_limit=600, soft_time_limit=570)
def run_analyze(run_id: int) -> None:
    """After an import: open draft analyses for new signatures and verify fixed ones, then
    let the suite's quarantine policy judge its tests, then judge the run's revision (if it has
    one) at the release gate; last, rebuild its suite's tree rollup (slow for a big suite)."""
    try:
        run_analyze_execute(run_id=run_id)
    finally:
        test_states_judge_run(run_id=run_id)
        gate_evaluate_run(run_id=run_id)
        suite_tree_refresh(run_id=run_id)


@shared_task(name="analyses.tasks.action_items_overdue", ignore_result=True, time_limit=300)
def action_items_overdue() -> int:
    """The beat's: announce open action items that became overdue, each once."""
    return action_items_overdue_notify()
