"""Rollback as a real action: a Deploy (trigger ``rollback``) that sends all traffic on the target
back to an earlier revision, enqueued on commit like any deploy and carried out by a worker.

The record is read from the target: ``traffic_before`` / ``traffic_after`` are what the target
reported, and a rollback that fails half-way says what the target reports then.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.utils import timezone

from engine.deploy import DeployError
from runs.integrations_seam import rollback_finished
from runs.lifecycle.deploys import deploy_lifecycle
from runs.models import Deploy, Revision, Service
from runs.selectors.rollback import rollback_refusal
from runs.services.deploy_step import target_for
from runs.services.deploys import DeployInProgress, deploy_active_for
from runs.services.enqueue import rollback_enqueue
from runs.services.logbuffer import LogBuffer
from runs.services.loops import loops_resume_waiting
from runs.services.traffic import (
    TrafficRead,
    revisions_traffic_record,
    serving_revision,
    target_retire,
    target_rollback,
    traffic_read,
)

logger = logging.getLogger(__name__)


class CannotRollBack(ValueError):
    """The revision is not one the service can roll back to; the message says why."""


def rollback_create(
    *, service: Service, to_revision: Revision, user: User | AnonymousUser | None = None
) -> Deploy:
    """Create the rollback Deploy and enqueue it on commit. Raises CannotRollBack, or
    DeployInProgress when the service already has an active deploy (the database decides)."""
    refusal = rollback_refusal(service=service, to_revision=to_revision)
    if refusal:
        raise CannotRollBack(refusal)
    try:
        with transaction.atomic():
            deploy = Deploy.objects.create(
                service=service,
                revision=to_revision,
                previous_revision=service.current_revision,
                image=to_revision.image,
                commit_sha=to_revision.commit_sha,
                trigger=Deploy.Trigger.ROLLBACK,
                requested_by=user if user and user.is_authenticated else None,
                timeout_seconds=int(service.target_config.get("timeout", 900)),
            )
            rollback_enqueue(deploy_id=deploy.pk)
    except IntegrityError:
        raise DeployInProgress(deploy_active_for(service=service)) from None
    return deploy


def rollback_execute(*, deploy_id: int) -> None:
    """Claim the rollback (or promote) deploy and carry it out: all traffic to its revision.
    A duplicate task finds nothing to do."""
    claimed = deploy_lifecycle.move(
        deploy_id, Deploy.Status.RUNNING, frm=[Deploy.Status.QUEUED], started_at=timezone.now()
    )
    if not claimed:
        logger.info("rollback %s: already taken or finished", deploy_id)
        return
    deploy = Deploy.objects.select_related("service", "revision", "previous_revision").get(
        pk=deploy_id
    )
    log = LogBuffer(Deploy, deploy.pk)
    try:
        _roll_back(deploy, log)
    except Exception as exc:  # an unexpected bug must still end the deploy, not leave it running
        logger.exception("rollback %s crashed", deploy.pk)
        _fail(deploy, f"Stageloop failed while rolling back: {exc!r}", log, None)
    finally:
        # A loop that could not deploy a build while this rollback was active takes it now.
        loops_resume_waiting(service_id=deploy.service_id)
        rollback_finished(deploy_id=deploy.pk)  # webhooks: rollback.finished (rollbacks only)


def _roll_back(deploy: Deploy, log: LogBuffer) -> None:
    service, to = deploy.service, deploy.revision
    if to is None:
        _fail(deploy, "The revision to roll back to no longer exists.", log, None)
        return
    doing = "promoting" if deploy.trigger == Deploy.Trigger.PROMOTE else "rolling back to"
    log.write(f"[stageloop] {service.name}: {doing} {to.name} ({service.target_kind})")
    if deploy.reason:
        log.write(f"[stageloop] reason: {deploy.reason}")
    try:
        target = target_for(service)
    except DeployError as exc:
        _fail(deploy, str(exc), log, None)
        return
    before = traffic_read(target)
    log.write(f"[stageloop] traffic before: {before.text()}")
    Deploy.objects.filter(pk=deploy.pk).update(traffic_before=before.as_json())
    problem = target_rollback(target, to)
    after = traffic_read(target)
    revisions_traffic_record(service=service, read=after)
    if problem or (after.known and after.split.get(to.name, 0) != 100):
        what = "promotion of" if deploy.trigger == Deploy.Trigger.PROMOTE else "rollback to"
        why = f"{what} {to.name} failed: {problem}" if problem else f"{what} {to.name} did not take"
        serving = serving_revision(service=service, read=after)
        if serving is not None:
            Service.objects.filter(pk=service.pk).update(current_revision=serving)
        _fail(deploy, f"{why}; the target reports traffic {after.text()}", log, after)
        return
    Revision.objects.filter(pk=to.pk).update(status=Revision.Status.READY, retired_at=None)
    Service.objects.filter(pk=service.pk).update(current_revision=to)
    away = deploy.previous_revision
    if away is not None and away.pk != to.pk:
        refused = target_retire(target, away)
        if refused:
            log.write(f"[stageloop] could not retire {away.name}: {refused}")
        else:
            Revision.objects.filter(pk=away.pk).exclude(status=Revision.Status.FAILED).update(
                status=Revision.Status.RETIRED, retired_at=timezone.now()
            )
        after = traffic_read(target)
        revisions_traffic_record(service=service, read=after)
    log.write(f"[stageloop] traffic is on {after.text()}")
    log.flush()
    promoted = deploy.trigger == Deploy.Trigger.PROMOTE
    deploy_lifecycle.move(
        deploy,
        Deploy.Status.SUCCEEDED,
        frm=[Deploy.Status.RUNNING],
        finished_at=timezone.now(),
        traffic_after=after.as_json(),
        release=Deploy.Release.PROMOTED if promoted else Deploy.Release.NONE,
        release_note=f"Promoted {to.name} by hand: the target reports traffic {after.text()}."
        if promoted
        else "",
    )


def _fail(deploy: Deploy, error: str, log: LogBuffer, after: TrafficRead | None) -> None:
    log.write(f"[stageloop] rollback failed: {error}")
    log.flush()
    fields: dict[str, Any] = {"traffic_after": after.as_json()} if after is not None else {}
    deploy_lifecycle.move(
        deploy,
        Deploy.Status.FAILED,
        frm=[Deploy.Status.RUNNING],
        error=error,
        finished_at=timezone.now(),
        **fields,
    )
