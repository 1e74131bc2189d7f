"""Loops: deploy and test each new build until the goal is met, iterations are spent, or cancel."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from runs.health_seam import revision_wait_stable
from runs.models import Build, Deploy, Loop, LoopIteration, Service, Suite, TestRun
from runs.services.deploys import deploy_and_test_create
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
    Loop.objects.filter(pk=loop.pk).update(status=Loop.Status.RUNNING)
    return LoopIteration.objects.create(
        loop=loop, number=number, build=build or deploy.build, deploy=deploy, run=run
    )


def goal_met(loop: Loop, run: TestRun) -> bool:
    """All tests pass (and there are tests), or the pass rate reaches the loop's goal."""
    if run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED) or run.total == 0:
        return False
    if loop.goal == Loop.Goal.ALL_PASS:
        return run.failed + run.errors == 0
    return run.pass_rate is not None and run.pass_rate * 100 >= loop.goal_pass_rate


def loop_iteration_finished(*, run_id: int) -> None:
    """After an iteration's run ends: finish the loop, or wait for (or take) the next build."""
    iteration = (
        LoopIteration.objects.select_related("loop__service", "run", "build")
        .filter(run_id=run_id, goal_met__isnull=True)
        .first()
    )
    if iteration is None or iteration.run is None:  # found by its run, so it has one
        return
    loop = iteration.loop
    run = iteration.run
    met = goal_met(loop, run)
    stable = None
    if met:
        stable = revision_wait_stable(service=loop.service, consecutive=3).stable
    with transaction.atomic():
        loop = Loop.objects.select_for_update().get(pk=loop.pk)
        LoopIteration.objects.filter(pk=iteration.pk).update(
            goal_met=met, stable=stable, note=_note(run, met, stable)
        )
        if loop.status not in Loop.ACTIVE:
            return  # cancelled meanwhile: the iteration is recorded, nothing more starts
        if met and stable:
            _finish(loop, Loop.Status.SUCCEEDED)
        elif iteration.number >= loop.max_iterations:
            _finish(loop, Loop.Status.EXHAUSTED)
        else:
            newer = (
                Build.objects.filter(service=loop.service, pk__gt=iteration.build_id or 0)
                .order_by("-created_at")
                .first()
            )
            if newer is not None:
                _iteration_start(loop, newer)
            else:
                Loop.objects.filter(pk=loop.pk).update(status=Loop.Status.WAITING)


def _note(run: TestRun, met: bool, stable: bool | None) -> str:
    if run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED):
        return f"The run ended {run.status}: {run.error[:200]}"
    rate = f"{run.pass_rate * 100:.1f} %" if run.pass_rate is not None else "no tests"
    if met and not stable:
        return f"Goal met ({rate}) but the revision was not stable under probes."
    return f"{'Goal met' if met else 'Goal not met'}: {run.passed}/{run.total} passed ({rate})."


def _finish(loop: Loop, status: str) -> None:
    Loop.objects.filter(pk=loop.pk).update(status=status, finished_at=timezone.now())


def loops_on_new_build(*, build: Build) -> list[Loop]:
    """Loops of the build's service that wait for a new build start their next iteration."""
    resumed = []
    for loop in Loop.objects.select_for_update().filter(
        service=build.service, status=Loop.Status.WAITING
    ):
        _iteration_start(loop, build)
        resumed.append(loop)
    return resumed


def loop_cancel(*, loop: Loop) -> bool:
    """Stop a loop; its active run (if any) is cancelled too."""
    with transaction.atomic():
        updated = Loop.objects.filter(pk=loop.pk, status__in=Loop.ACTIVE).update(
            status=Loop.Status.CANCELLED, finished_at=timezone.now()
        )
        if updated:
            for iteration in loop.iterations.select_related("run"):
                if iteration.run and iteration.run.is_active:
                    run_cancel(run=iteration.run)
    return bool(updated)
