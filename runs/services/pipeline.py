"""Deploy and test, as one chain: deploy → wait healthy → run suite → import → analyze → gate.

A test-only run (a suite's schedule) walks the same chain from the test step on, against a
revision already serving: run suite → import → analyze → quarantine (no gate: the gate judges a
candidate before traffic, and this revision already has it)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from analyses.services.analyze import run_analyze_execute
from runs.lifecycle.deploys import deploy_lifecycle
from runs.lifecycle.runs import run_lifecycle
from runs.models import Deploy, Revision, Service, TestRun
from runs.services.deploy_step import deploy_claim, deploy_execute
from runs.services.gates import gate_evaluate_safely
from runs.services.leases import LeaseKeeper
from runs.services.loops import loop_iteration_finished, loops_resume_waiting
from runs.services.release import release_decide
from runs.services.rollback import rollback_execute
from runs.services.states import test_states_judge_safely
from runs.services.suite_step import run_claim, run_end, run_execute
from runs.services.sweeper import deploy_clean_up

logger = logging.getLogger(__name__)


def deploy_and_test_execute(*, deploy_id: int) -> None:
    """Carry one deploy and its run through the whole chain. Safe to run twice: each step
    claims its row with a conditional UPDATE, so a duplicate task finds nothing to do.

    Whatever a step raises (a bug, a lost database connection, Celery's soft time limit), the
    deploy and its run end at once with what happened, and its loop iteration is finished.
    """
    moves_traffic = [Deploy.Trigger.ROLLBACK, Deploy.Trigger.PROMOTE]
    if Deploy.objects.filter(pk=deploy_id, trigger__in=moves_traffic).exists():
        # The sweeper sends every forgotten queued deploy under this name; a rollback or promote
        # deploy must move traffic, never deploy its revision's image as a new revision.
        rollback_execute(deploy_id=deploy_id)
        return
    deploy = deploy_claim(deploy_id=deploy_id)
    if deploy is None:
        logger.info("deploy %s: already taken or finished", deploy_id)
        return
    try:
        # Renews the leases of the deploy and then of its run while the chain works on them; a
        # worker killed mid-chain stops renewing, and the sweeper frees the service.
        with LeaseKeeper() as keeper:
            keeper.hold(Deploy, deploy.pk)
            _chain(deploy, keeper)
    except Exception as exc:
        logger.exception("deploy %s: the chain stopped", deploy_id)
        _chain_stopped(deploy, exc)
    finally:
        # A loop that could not deploy a build while this deploy was active takes it now.
        loops_resume_waiting(service_id=deploy.service_id)


def _chain(deploy: Deploy, keeper: LeaseKeeper) -> None:
    run = deploy.runs.first()
    revision = deploy_execute(deploy)
    if revision is None:
        if run is not None:
            run_lifecycle.move(
                run,
                TestRun.Status.ERROR,
                frm=TestRun.ACTIVE,
                error=f"Not run: deploy #{deploy.pk} failed.",
                finished_at=timezone.now(),
            )
        _loop_step(run, deploy)
        return
    gated = deploy.release_policy != Service.ReleasePolicy.IMMEDIATE
    if run is None:
        if gated:
            release_decide(deploy=deploy, candidate=revision, run=None)
        return
    TestRun.objects.filter(pk=run.pk).update(revision=revision)
    claimed = run_claim(run_id=run.pk)
    if claimed is not None:
        keeper.hold(TestRun, claimed.pk)
        claimed.revision = revision
        run = run_execute(claimed, revision)
        if run.status in (TestRun.Status.PASSED, TestRun.Status.FAILED):
            _analyze(run)
        test_states_judge_safely(run=run)  # quarantine and release; never stops the chain
        gate_evaluate_safely(run=run)  # the before-traffic verdict; never stops the chain
    if gated:
        # Traffic moves (or never does) on the verdict; the deploy is running until then.
        release_decide(deploy=deploy, candidate=revision, run=run)
    _loop_step(run)


def revision_test_execute(*, run_id: int) -> None:
    """Run a queued test-only run's suite against its revision, import, analyze and judge its
    tests' states. Safe to run twice (the run is claimed with a conditional UPDATE); whatever a
    step raises, the run ends at once saying why."""
    run = run_claim(run_id=run_id)
    if run is None:
        logger.info("run %s: already taken or finished", run_id)
        return
    try:
        with LeaseKeeper() as keeper:
            keeper.hold(TestRun, run.pk)
            revision = (
                Revision.objects.filter(pk=run.revision_id).first() if run.revision_id else None
            )
            if revision is None or revision.status != Revision.Status.READY:
                what = (
                    f"revision {revision.name} is {revision.status}"
                    if revision
                    else "its revision was deleted"
                )
                run_end(
                    run, TestRun.Status.ERROR, f"Not run: {what}, so there was nothing to test."
                )
                return
            run = run_execute(run, revision)
            if run.status in (TestRun.Status.PASSED, TestRun.Status.FAILED):
                _analyze(run)
            test_states_judge_safely(run=run)
    except Exception as exc:
        logger.exception("run %s: the test-only chain stopped", run_id)
        run_lifecycle.move(
            run,
            TestRun.Status.ERROR,
            frm=TestRun.ACTIVE,
            error=f"Stageloop stopped: {exc!r}",
            finished_at=timezone.now(),
        )


def _analyze(run: TestRun) -> None:
    """Analyze a finished run; a failure here is noted on the run and never stops its loop."""
    try:
        run_analyze_execute(run_id=run.pk)
    except Exception as exc:
        logger.exception("run %s: the analyze step failed", run.pk)
        warning = f"The analyze step failed ({exc!r}); start an analysis from this run's page."
        run.warnings = [*run.warnings, warning]
        TestRun.objects.filter(pk=run.pk).update(warnings=run.warnings)


def _chain_stopped(deploy: Deploy, exc: Exception) -> None:
    """End what the chain left active, saying why, and let the deploy's loop go on.

    When the database went away (an outage, a restart) the connection it broke stays broken even
    once it is back: it is dropped and the ending tried again every second, for as long as the
    lease would have held the rows. If the database is still down then, the sweeper ends them.
    """
    deadline = time.monotonic() + settings.LEASE_SECONDS
    while True:
        _drop_broken_connection()
        try:
            _chain_end(deploy, exc)
            return
        except DatabaseError:
            if time.monotonic() >= deadline:
                raise
            logger.warning("deploy %s: the database does not answer; ending it again", deploy.pk)
            time.sleep(1)


def _drop_broken_connection() -> None:
    if (
        connection.connection is not None
        and not connection.in_atomic_block
        and not connection.is_usable()
    ):
        connection.close()


def _chain_end(deploy: Deploy, exc: Exception) -> None:
    now = timezone.now()
    why = f"Stageloop stopped: {exc!r}"
    deploy_lifecycle.move(
        deploy, Deploy.Status.FAILED, frm=[Deploy.Status.RUNNING], error=why, finished_at=now
    )
    if Deploy.objects.filter(pk=deploy.pk, status=Deploy.Status.FAILED, error=why).exists():
        # Ended here (and not cleaned up by an earlier try): what it started stops, as for a
        # deploy the sweeper finds lost.
        deploy_clean_up(deploy.pk, why)
    run = deploy.runs.first()
    if run is None:
        _loop_step_safely(None, deploy)
        return
    run_lifecycle.move(
        run,
        TestRun.Status.ERROR,
        frm=TestRun.ACTIVE,
        error=f"The deploy-and-test chain of deploy #{deploy.pk} stopped: {exc!r}",
        finished_at=now,
    )
    _loop_step_safely(run, deploy)


def _loop_step_safely(run: TestRun | None, deploy: Deploy) -> None:
    try:
        _loop_step(run, deploy)
    except Exception:  # the database itself may be gone; the sweeper finishes the iteration
        logger.exception("deploy %s: could not finish its loop iteration", deploy.pk)


def _loop_step(run: TestRun | None, deploy: Deploy | None = None) -> None:
    if run is not None:
        loop_iteration_finished(run_id=run.pk)
    elif deploy is not None:
        loop_iteration_finished(deploy_id=deploy.pk)
