"""The deploy step: create a revision with the service's target, wait until it is healthy, route.

Every traffic figure it records is read from the target (runs.services.traffic)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine.deploy import DeployError, DeployRequest, RevisionInfo, get_target
from runs.health_seam import revision_wait_stable
from runs.lifecycle.deploys import deploy_lifecycle
from runs.models import Deploy, Revision, Service
from runs.services.leases import lease_fields
from runs.services.logbuffer import LogBuffer
from runs.services.traffic import (
    TrafficRead,
    revisions_traffic_record,
    serving_revision,
    target_retire,
    target_rollback,
    traffic_read,
)

logger = logging.getLogger(__name__)


def target_for(service: Service):
    """The service's deploy target, built only from its admin-configured record."""
    config = dict(service.target_config)
    config.setdefault("health_path", service.health_path)
    config.setdefault("state_dir", str(Path(settings.VAR_DIR) / "local-deploy"))
    return get_target(service.target_kind, config)


def release_tag(deploy: Deploy) -> str:
    """The tag that names a gated candidate's own URL where the target has tags (Cloud Run)."""
    return f"deploy-{deploy.pk}"


def deploy_claim(*, deploy_id: int) -> Deploy | None:
    """Move a queued deploy to running under this worker's lease; None when another worker has
    it or it is over."""
    now = timezone.now()
    claimed = deploy_lifecycle.move(
        deploy_id,
        Deploy.Status.RUNNING,
        frm=[Deploy.Status.QUEUED],
        started_at=now,
        **lease_fields(now),
    )
    if not claimed:
        return None
    return Deploy.objects.select_related("service__current_revision", "build").get(pk=deploy_id)


def deploy_fail(deploy: Deploy, error: str, log: LogBuffer | None = None, **fields: Any) -> None:
    if log:
        log.write(f"[stageloop] deploy failed: {error}")
        log.flush()
    deploy_lifecycle.move(
        deploy,
        Deploy.Status.FAILED,
        frm=[Deploy.Status.RUNNING],
        error=error,
        finished_at=timezone.now(),
        **fields,
    )


def deploy_execute(deploy: Deploy) -> Revision | None:
    """Deploy `deploy.image`; on success the new revision is current and healthy, the previous
    one retired. On failure traffic goes back where it was, on the target. Either way the
    Deploy records the traffic the target reported before and after."""
    service = deploy.service
    previous = service.current_revision
    log = LogBuffer(Deploy, deploy.pk)
    log.write(f"[stageloop] deploying {deploy.image} to {service.name} ({service.target_kind})")
    try:
        target = target_for(service)
    except DeployError as exc:
        deploy_fail(deploy, str(exc), log)
        return None
    before = traffic_read(target)
    log.write(f"[stageloop] traffic before: {before.text()}")
    Deploy.objects.filter(pk=deploy.pk).update(traffic_before=before.as_json())
    gated = deploy.release_policy != Service.ReleasePolicy.IMMEDIATE
    if gated:
        log.write(
            f"[stageloop] release policy {deploy.release_policy}: the new revision takes no "
            "traffic until the gate passes"
        )
    try:
        request = DeployRequest(
            service=service.name,
            image=deploy.image,
            commit=deploy.commit_sha,
            env={"STAGELOOP_SERVICE": service.name},
            no_traffic=gated,
            tag=release_tag(deploy) if gated else "",
        )
        info = target.deploy(
            request,
            log=log.write,
            on_operation=lambda op: Deploy.objects.filter(pk=deploy.pk).update(operation=op),
            on_start=lambda pid: Deploy.objects.filter(pk=deploy.pk).update(child_pgid=pid),
        )
    except Exception as exc:  # an unexpected bug must still end the deploy, not leave it running
        if not isinstance(exc, DeployError):
            logger.exception("deploy %s crashed", deploy.pk)
        error = str(exc) if isinstance(exc, DeployError) else f"Stageloop failed: {exc!r}"
        after = traffic_read(target)
        revisions_traffic_record(service=service, read=after)
        deploy_fail(
            deploy,
            f"{error}\nThe target reports traffic on {after.text()}.",
            log,
            traffic_after=after.as_json(),
        )
        return None
    deployed = traffic_read(target)
    revision = _revision_record(deploy=deploy, info=info, read=deployed)
    log.write(f"[stageloop] revision {revision.name} ready at {revision.url}; probing it")
    log.flush()
    stability = revision_wait_stable(service=service)
    if not stability.stable:
        _undo(deploy, target, revision, previous, deployed, stability.last_error, log)
        return None
    log.write(f"[stageloop] healthy after {stability.checks} probe rounds")
    if gated:
        # Traffic stays where it was; the release decides after the suite (runs.services.release).
        after = traffic_read(target)
        revisions_traffic_record(service=service, read=after)
        log.write(f"[stageloop] testing {revision.name} with no traffic; traffic: {after.text()}")
        log.flush()
        Deploy.objects.filter(pk=deploy.pk).update(
            release=Deploy.Release.TESTING, traffic_after=after.as_json()
        )
        deploy.release = Deploy.Release.TESTING
        return revision
    if previous is not None and previous.pk != revision.pk:
        _retire_previous(target, previous, traffic_read(target), log)
    after = traffic_read(target)
    revisions_traffic_record(service=service, read=after)
    log.write(f"[stageloop] traffic after: {after.text()}")
    log.flush()
    deploy_lifecycle.move(
        deploy,
        Deploy.Status.SUCCEEDED,
        frm=[Deploy.Status.RUNNING],
        finished_at=timezone.now(),
        traffic_after=after.as_json(),
    )
    return revision


def _undo(
    deploy: Deploy,
    target,
    revision: Revision,
    previous: Revision | None,
    deployed: TrafficRead,
    why: str,
    log: LogBuffer,
) -> None:
    """The new revision never became healthy: traffic goes back to `previous` on the target (or,
    if it never moved, that is checked), the candidate is retired, and the record says what the
    target reports now."""
    service = deploy.service
    Revision.objects.filter(pk=revision.pk).update(status=Revision.Status.FAILED)
    moved = not deployed.known or revision.name in deployed.split
    problem = refused = ""
    if moved and previous is not None:
        log.write(f"[stageloop] sending traffic back to {previous.name}")
        problem = target_rollback(target, previous)
    if not problem:
        # Nothing else to serve (a first deploy) or traffic is back: the target decides.
        refused = target_retire(target, revision, status="failed")
    after = traffic_read(target)
    if problem and previous is not None:
        outcome = (
            f"rollback to {previous.name} failed: {problem}; the target reports traffic "
            f"{after.text()}"
        )
    elif previous is None:
        outcome = f"there is no previous revision; the target reports traffic {after.text()}"
    elif not after.known:
        outcome = f"the target reports traffic {after.text()}"
    elif revision.name in after.split:
        outcome = f"the target still reports traffic {after.text()}"
    else:
        outcome = f"traffic {'is back on' if moved else 'stayed on'} {after.text()}"
    if problem:
        outcome += f"; {revision.name} was not retired"
    elif refused:
        outcome += f"; {revision.name} could not be retired: {refused}"
    revisions_traffic_record(service=service, read=after)
    if after.known:
        current = serving_revision(service=service, read=after)
        if current is None and after.split and not problem:
            current = previous  # the target serves a revision Stageloop did not record
    else:
        current = revision if problem else previous
    Service.objects.filter(pk=service.pk).update(current_revision=current)
    service.current_revision = current
    deploy_fail(
        deploy,
        f"revision {revision.name} never became healthy ({why}); {outcome}",
        log,
        traffic_after=after.as_json(),
    )


def _retire_previous(target, previous: Revision, read: TrafficRead, log: LogBuffer) -> None:
    """Retire the revision the deploy replaced, unless the target says it still serves (a
    deploy with no traffic moved keeps the old revision serving)."""
    if read.known and previous.name in read.split:
        log.write(f"[stageloop] {previous.name} still serves {read.split[previous.name]} %: kept")
        return
    refused = target_retire(target, previous)
    if refused:
        log.write(f"[stageloop] could not retire {previous.name}: {refused}")
        return
    Revision.objects.filter(pk=previous.pk).update(
        status=Revision.Status.RETIRED, retired_at=timezone.now()
    )


def _revision_record(*, deploy: Deploy, info: RevisionInfo, read: TrafficRead) -> Revision:
    build = deploy.build
    with transaction.atomic():
        revision = Revision.objects.create(
            service=deploy.service,
            name=info.name[:120],
            image=deploy.image,
            commit_sha=deploy.commit_sha,
            commit_message=build.commit_message if build else "",
            commit_time=build.commit_time if build else None,
            url=info.url,
            status=Revision.Status.READY,
            ready_at=timezone.now(),
            target_state=info.extra,
        )
        Deploy.objects.filter(pk=deploy.pk).update(revision=revision)
        # The new revision is what probes and suites reach (its URL), whatever share it holds.
        Service.objects.filter(pk=deploy.service_id).update(current_revision=revision)
        deploy.service.current_revision = revision
        revisions_traffic_record(service=deploy.service, read=read)
    return revision
