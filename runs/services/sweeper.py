"""The sweeper: nothing stays "running" after its worker died, nothing queued is forgotten.

A running deploy or run is lost when the lease its worker renews has run out (the worker died:
the service is free again within ``LEASE_SECONDS + SWEEP_INTERVAL``), or, as a backstop, when it
ran past ``started_at + timeout + GRACE``. Marking a row lost also cleans up after its worker: the
process group the row's work started (a suite, a local revision, a deploy command) is stopped if
it still runs and is still led by the recorded pid, the run's temp folder is removed, a local
revision the lost deploy had put in front is marked failed with traffic back where it was, and
the loop iteration holding the row ends, so the loop goes on to the next build or waits.
"""

from __future__ import annotations

import logging
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from engine.processes import group_alive, group_is_led_by, group_stop
from runs.lifecycle.deploys import deploy_lifecycle
from runs.lifecycle.runs import run_lifecycle
from runs.models import Deploy, Revision, Service, TestRun
from runs.services.enqueue import deploy_and_test_send
from runs.services.leases import LIVE_LEASE_MINUTES, holder_host, is_live_holder
from runs.services.loops import loop_iteration_finished, loops_resume_waiting
from runs.services.outbox import OutboxFlush, outbox_flush
from runs.services.release import release_restore
from runs.services.states import test_states_expire
from runs.services.suite_step import SCRATCH_PREFIX

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=2)
REQUEUE_AFTER = timedelta(minutes=2)
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for a lost row's process group


@dataclass
class SweepReport:
    lost_deploys: int
    lost_runs: int
    requeued: list[int]
    outbox: OutboxFlush = field(default_factory=OutboxFlush)


def _lost_reason(row, now: datetime, what: str) -> str | None:
    """Why a running row is lost, or None while its worker still holds it.

    Only rows that are running are looked at: a handful at any time, so the arithmetic is done
    here rather than in SQL, where interval maths differs between PostgreSQL and SQLite.
    """
    if row.lease_expires_at is not None and row.lease_expires_at < now:
        if is_live_holder(row.lease_holder):
            return (
                f"Lost: no result came from the external run for {LIVE_LEASE_MINUTES} minutes "
                f"(its lease ran out at {row.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC) and it "
                "was never finished; its CI job probably stopped."
            )
        return (
            f"Lost: the worker holding it ({row.lease_holder or 'unknown'}) stopped renewing its "
            f"lease, which ran out at {row.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC."
        )
    started, timeout = row.started_at, row.timeout_seconds
    if started is None or started + timedelta(seconds=timeout) + GRACE < now:
        return (
            f"Lost: the worker stopped answering before the {what} finished "
            f"(it ran past its timeout of {timeout} s)."
        )
    return None


def _running(model):
    return model.objects.filter(status="running").only(
        "pk", "started_at", "timeout_seconds", "lease_holder", "lease_expires_at"
    )


def runs_sweep(*, now: datetime | None = None) -> SweepReport:
    """Mark deploys and runs whose worker died as lost and clean up after them; re-enqueue
    deploys whose message was lost; let waiting loops deploy a build that waited for their
    service to be free.

    A re-enqueued deploy is harmless if the first message still arrives: the task claims the
    row with a conditional UPDATE and the second finds nothing to do.
    """
    now = now or timezone.now()
    lost_deploys: list[int] = []
    for deploy in _running(Deploy):
        reason = _lost_reason(deploy, now, "deploy")
        if reason and deploy_lifecycle.move(
            deploy.pk,
            Deploy.Status.LOST,
            frm=[Deploy.Status.RUNNING],
            finished_at=now,
            error=reason,
        ):
            lost_deploys.append(deploy.pk)
            deploy_clean_up(deploy.pk, reason)

    lost_runs: list[int] = []
    for run in _running(TestRun):
        reason = _lost_reason(run, now, "run")
        if reason and run_lifecycle.move(
            run.pk, TestRun.Status.LOST, frm=[TestRun.Status.RUNNING], finished_at=now, error=reason
        ):
            lost_runs.append(run.pk)
            _run_clean_up(run.pk, reason)
    for run_id, deploy_id in TestRun.objects.filter(
        status__in=TestRun.ACTIVE, deploy_id__in=lost_deploys
    ).values_list("pk", "deploy_id"):
        if run_lifecycle.move(
            run_id,
            TestRun.Status.LOST,
            frm=TestRun.ACTIVE,
            finished_at=now,
            error=f"Lost: its deploy #{deploy_id} was lost before the run could start.",
        ):
            lost_runs.append(run_id)
    # A worker that died between the end of a deploy and the claim of its run left the run
    # queued with nobody to take it: the chain only ever claims it right after the deploy.
    orphans = TestRun.objects.filter(
        status=TestRun.Status.QUEUED,
        deploy__status__in=deploy_lifecycle.final,
        deploy__finished_at__lt=now - timedelta(seconds=settings.LEASE_SECONDS),
    ).values_list("pk", "deploy_id", "deploy__status")
    for run_id, deploy_id, deploy_status in orphans:
        if run_lifecycle.move(
            run_id,
            TestRun.Status.LOST,
            frm=[TestRun.Status.QUEUED],
            finished_at=now,
            error=f"Lost: its deploy #{deploy_id} ended {deploy_status}, "
            "and the worker stopped before it took the run.",
        ):
            lost_runs.append(run_id)

    # The loop iterations holding what was lost end; their loops go on or wait for a build.
    for run_id in lost_runs:
        _safely(loop_iteration_finished, run_id=run_id)
    for deploy_id in Deploy.objects.filter(pk__in=lost_deploys, runs__isnull=True).values_list(
        "pk", flat=True
    ):
        _safely(loop_iteration_finished, deploy_id=deploy_id)

    # Messages the broker did not take (it was down) are sent again, before the deploys below.
    outbox = outbox_flush(now=now)
    requeued = list(
        Deploy.objects.filter(
            status=Deploy.Status.QUEUED, created_at__lt=now - REQUEUE_AFTER
        ).values_list("pk", flat=True)
    )
    for deploy_id in requeued:
        try:
            deploy_and_test_send(deploy_id=deploy_id)
        except Exception:  # the broker is still down: the next sweep tries again
            logger.exception("sweeper: could not enqueue deploy %s", deploy_id)
    # Builds that waited for a deploy of their service: it ended (or was just lost) unseen.
    resumed = loops_resume_waiting()
    # Expired quarantines count as active already; this records their release in history.
    try:
        test_states_expire(now=now)
    except Exception:  # history only: the next sweep records it
        logger.exception("sweeper: could not record expired test states")
    if lost_deploys or lost_runs or requeued or resumed:
        logger.warning(
            "sweeper: deploys %s and runs %s lost, deploys %s enqueued again, loops %s resumed",
            lost_deploys,
            lost_runs,
            requeued,
            [loop.pk for loop in resumed],
        )
    return SweepReport(
        lost_deploys=len(lost_deploys), lost_runs=len(lost_runs), requeued=requeued, outbox=outbox
    )


def _safely(step, **ids: int) -> None:
    try:
        step(**ids)
    except Exception:  # one broken loop must not stop the sweep of the others
        logger.exception("sweeper: %s(%s) failed", step.__name__, ids)


def deploy_clean_up(deploy_id: int, reason: str) -> None:
    """Stop what a deploy that ended unfinished (lost, or its chain stopped) had started, back
    out its local revision, and add what was done to its error (``reason`` and the notes)."""
    deploy = Deploy.objects.select_related("service", "revision", "previous_revision").get(
        pk=deploy_id
    )
    # A gated or canary release whose worker died: traffic goes back to the stable revision (it
    # may have moved a share to the candidate) and the candidate is retired, before its process
    # group stops.
    in_release = deploy.release in (Deploy.Release.TESTING, Deploy.Release.CANARY)
    notes = [release_restore(deploy.pk)] if in_release else []
    notes += _stop_group(deploy.child_pgid, deploy.lease_holder)
    local = deploy.service.target_kind == Service.TargetKind.LOCAL
    if not in_release and local and deploy.revision is not None:
        notes.append(_revision_back_out(deploy))
    if notes:
        Deploy.objects.filter(pk=deploy_id).update(error=f"{reason} {'; '.join(notes)}.")


def _run_clean_up(run_id: int, reason: str) -> None:
    run = TestRun.objects.get(pk=run_id)
    notes = _stop_group(run.child_pgid, run.lease_holder)
    if run.scratch_dir:
        notes.append(_remove_scratch(run.scratch_dir, run.lease_holder))
    if notes:
        TestRun.objects.filter(pk=run_id).update(error=f"{reason} {'; '.join(notes)}.")


def _elsewhere(holder: str) -> str:
    """The holder's host if it is not this one (its processes and files are out of reach)."""
    host = holder_host(holder)
    return "" if host == socket.gethostname() else (host or "an unknown host")


def _stop_group(pgid: int | None, holder: str) -> list[str]:
    if not pgid:
        return []
    host = _elsewhere(holder)
    if host:
        return [f"process group {pgid} on {host} was not stopped (the sweeper runs elsewhere)"]
    # A pid that no longer leads its group was reused by some other program: leave it alone.
    if not (group_is_led_by(pgid) and group_alive(pgid)):
        return [f"process group {pgid} was already gone"]
    if group_stop(pgid, grace=STOP_GRACE):
        return [f"stopped process group {pgid}"]
    logger.error("sweeper: process group %s still has live processes after SIGKILL", pgid)
    return [f"could not stop process group {pgid}"]


def _remove_scratch(scratch_dir: str, holder: str) -> str:
    host = _elsewhere(holder)
    if host:
        return f"temp folder {scratch_dir} on {host} was not removed"
    path = Path(scratch_dir)
    if not path.is_absolute() or not path.name.startswith(SCRATCH_PREFIX):
        return f"temp folder {scratch_dir} is not a run's and was kept"
    if not path.exists():
        return f"temp folder {scratch_dir} was already gone"
    shutil.rmtree(path, ignore_errors=True)
    return f"removed {scratch_dir}" if not path.exists() else f"could not remove {scratch_dir}"


def _revision_back_out(deploy: Deploy) -> str:
    """The lost deploy's local revision was already in front (its worker died while waiting for
    it to be stable) and its process is now stopped: mark it failed, route back."""
    revision, previous = deploy.revision, deploy.previous_revision
    assert revision is not None
    with transaction.atomic():
        Revision.objects.filter(pk=revision.pk).filter(
            Q(status=Revision.Status.READY) | Q(status=Revision.Status.PENDING)
        ).update(status=Revision.Status.FAILED, traffic_percent=0)
        routed = Service.objects.filter(pk=deploy.service_id, current_revision=revision).update(
            current_revision=previous
        )
        if routed and previous is not None:
            Revision.objects.filter(pk=previous.pk).update(traffic_percent=100)
    where = previous.name if previous else "nothing"
    return f"revision {revision.name} marked failed" + (
        f", traffic back on {where}" if routed else ""
    )
