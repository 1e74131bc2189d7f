"""Loops: deploy and test each new build until the goal is met, iterations are spent, or cancel."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from runs.health_seam import revision_wait_stable
from runs.integrations_seam import loop_ended
from runs.lifecycle.loops import loop_lifecycle
from runs.models import Build, Deploy, Loop, LoopIteration, Service, Suite, TestRun, Verdict
from runs.services.deploys import DeployInProgress, deploy_and_test_create
from runs.services.gates import gate_evaluate_safely
from runs.services.suite_step import run_cancel

logger = logging.getLogger(__name__)


class LoopInProgress(Exception):
    def __init__(self, active: Loop | None) -> None:
        self.active = active
        super().__init__(
            f"A loop is already running on this service (loop #{active.pk})."
            if active
            else "A loop is already running on this service."
        )


def loop_start(
    *,
    service: Service,
    suite: Suite,
    goal: str = Loop.Goal.ALL_PASS,
    goal_pass_rate: float = 100.0,
    max_iterations: int = 5,
    user=None,
) -> Loop:
    """Start a loop and its first iteration with the service's latest build."""
    if suite.service_id != service.pk:
        raise ValueError(f"Suite {suite.name} does not belong to {service.name}.")
    if not 1 <= max_iterations <= 100:
        raise ValueError("The maximum number of iterations must be between 1 and 100.")
    if goal == Loop.Goal.PASS_RATE and not 0 < goal_pass_rate <= 100:
        raise ValueError("The pass-rate goal must be above 0 % and at most 100 %.")
    try:
        with transaction.atomic():
            loop = Loop.objects.create(
                service=service,
                suite=suite,
                goal=goal,
                goal_pass_rate=goal_pass_rate,
                max_iterations=max_iterations,
                created_by=user if user is not None and user.is_authenticated else None,
            )
            _iteration_start(loop, service.builds.order_by("-created_at").first())
    except IntegrityError:
        raise LoopInProgress(
            Loop.objects.filter(service=service, status__in=Loop.ACTIVE).first()
        ) from None
    return loop


def _iteration_start(loop: Loop, build: Build | None) -> LoopIteration:
    """Open the next iteration: one deploy-and-test of `build` (inside the caller's transaction)."""
    number = loop.iterations.count() + 1
    deploy, run = deploy_and_test_create(
        service=loop.service,
        suite=loop.suite,
        build=build,
        user=loop.created_by,
        trigger=Deploy.Trigger.LOOP,
    )
    loop_lifecycle.move(loop, Loop.Status.RUNNING, frm=Loop.ACTIVE)
    return LoopIteration.objects.create(
        loop=loop, number=number, build=build or deploy.build, deploy=deploy, run=run
    )


def goal_met(loop: Loop, run: TestRun) -> bool:
    """All tests pass (and there are tests), or the pass rate reaches the loop's goal, or (goal
    gate) the run's before-traffic verdict is pass: inconclusive is not met."""
    if run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED) or run.total == 0:
        return False
    if loop.goal == Loop.Goal.GATE:
        verdict = gate_evaluate_safely(run=run)  # the chain judged it already: that verdict
        return verdict is not None and verdict.outcome == Verdict.Outcome.PASS
    if loop.goal == Loop.Goal.ALL_PASS:
        return run.failed + run.errors == 0
    return run.pass_rate is not None and run.pass_rate * 100 >= loop.goal_pass_rate


def loop_iteration_finished(*, run_id: int | None = None, deploy_id: int | None = None) -> None:
    """After an iteration's run ends (or its deploy ended with no run to follow): finish the
    loop, or wait for (or take) the next build."""
    iterations = LoopIteration.objects.select_related("loop__service", "run", "deploy", "build")
    if run_id is not None:
        iterations = iterations.filter(run_id=run_id)
    elif deploy_id is not None:
        iterations = iterations.filter(deploy_id=deploy_id)
    else:
        raise ValueError("loop_iteration_finished needs a run_id or a deploy_id")
    iteration = iterations.filter(goal_met__isnull=True).first()
    if iteration is None:
        return
    loop = iteration.loop
    run, deploy = iteration.run, iteration.deploy
    if run is None and deploy is None:
        return
    if run is not None and run.is_active:
        return  # its run goes on: the iteration ends with it
    met = run is not None and goal_met(loop, run)
    stable = None
    if met:
        stable = revision_wait_stable(service=loop.service, consecutive=3).stable
    if run is not None:
        note = _note(run, met, stable)
    else:
        assert deploy is not None
        note = f"The deploy ended {deploy.status} with no run: {deploy.error[:200]}"
    with transaction.atomic():
        loop = Loop.objects.select_for_update().get(pk=loop.pk)
        LoopIteration.objects.filter(pk=iteration.pk).update(goal_met=met, stable=stable, note=note)
        if loop.status not in Loop.ACTIVE:
            return  # cancelled meanwhile: the iteration is recorded, nothing more starts
        if met and stable:
            _finish(loop, Loop.Status.SUCCEEDED)
        elif iteration.number >= loop.max_iterations:
            _finish(loop, Loop.Status.EXHAUSTED)
        else:
            _next_or_wait(loop, _build_newer_than(loop, iteration.build_id))


def _note(run: TestRun, met: bool, stable: bool | None) -> str:
    if run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED):
        return f"The run ended {run.status}: {run.error[:200]}"
    rate = f"{run.pass_rate * 100:.1f} %" if run.pass_rate is not None else "no tests"
    if met and not stable:
        return f"Goal met ({rate}) but the revision was not stable under probes."
    return f"{'Goal met' if met else 'Goal not met'}: {run.passed}/{run.total} passed ({rate})."


def _finish(loop: Loop, status: str) -> None:
    if loop_lifecycle.move(loop, status, frm=[Loop.Status.RUNNING], finished_at=timezone.now()):
        loop_ended(loop=loop)  # loop.finished / loop.gave_up (runs.integrations_seam)


def _build_newer_than(loop: Loop, build_id: int | None) -> Build | None:
    return (
        Build.objects.filter(service=loop.service, pk__gt=build_id or 0)
        .order_by("-created_at")
        .first()
    )


def _next_or_wait(loop: Loop, build: Build | None) -> Deploy | None:
    """Start the next iteration with `build`, or leave the loop waiting: for a build when there
    is none, for the service when another deploy of it is active (that deploy is returned)."""
    if build is not None:
        try:
            _iteration_start(loop, build)
            return None
        except DeployInProgress as exc:
            logger.info("loop %s: build %s waits for deploy %s", loop.pk, build.pk, exc.active)
            blocking = exc.active
    else:
        blocking = None
    loop_lifecycle.move(loop, Loop.Status.WAITING, frm=[Loop.Status.RUNNING])
    return blocking


@dataclass
class NewBuildOutcome:
    """What a new build did to the loops of its service."""

    resumed: list[Loop] = field(default_factory=list)
    # Loops that keep waiting because another deploy of the service is active: the build is
    # kept, and loops_resume_waiting deploys it once that deploy (and its tests) has ended.
    waiting: list[Loop] = field(default_factory=list)
    blocking_deploy: Deploy | None = None


def loops_on_new_build(*, build: Build) -> NewBuildOutcome:
    """Loops of the build's service that wait for a new build start their next iteration, unless
    another deploy of the service is active: then they go on waiting."""
    outcome = NewBuildOutcome()
    for loop in Loop.objects.select_for_update().filter(
        service=build.service, status=Loop.Status.WAITING
    ):
        try:
            _iteration_start(loop, build)
            outcome.resumed.append(loop)
        except DeployInProgress as exc:
            outcome.waiting.append(loop)
            outcome.blocking_deploy = exc.active
    return outcome


def loops_resume_waiting(*, service_id: int | None = None) -> list[Loop]:
    """Waiting loops with a build newer than their last iteration's start an iteration with it,
    once their service is quiet: no deploy and no run of it active. Called when a deploy's chain
    ends, and by the sweeper for what that call missed (a lost deploy, a build committed late)."""
    busy = Q(service__deploys__status__in=Deploy.ACTIVE) | Q(
        service__runs__status__in=TestRun.ACTIVE
    )
    candidates = Loop.objects.filter(status=Loop.Status.WAITING).exclude(busy)
    if service_id is not None:
        candidates = candidates.filter(service_id=service_id)
    resumed = []
    for loop_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            loop = (
                Loop.objects.select_for_update()
                .filter(pk=loop_id, status=Loop.Status.WAITING)
                .first()
            )
            if loop is None:
                continue  # a new build or a cancel got there first
            last = loop.iterations.order_by("-number").values_list("build_id", flat=True).first()
            build = _build_newer_than(loop, last)
            if build is not None and _next_or_wait(loop, build) is None:
                resumed.append(loop)
    return resumed


def loop_cancel(*, loop: Loop) -> bool:
    """Stop a loop; its active run (if any) is cancelled too."""
    with transaction.atomic():
        updated = loop_lifecycle.move(
            loop, Loop.Status.CANCELLED, frm=Loop.ACTIVE, finished_at=timezone.now()
        )
        if updated:
            for iteration in loop.iterations.select_related("run"):
                if iteration.run and iteration.run.is_active:
                    run_cancel(run=iteration.run)
    return bool(updated)
