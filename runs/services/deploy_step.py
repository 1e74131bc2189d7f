"""The deploy step: create a revision with the service's target, wait until it is healthy, route."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine.deploy import DeployError, DeployRequest, RevisionInfo, get_target
from runs.health_seam import revision_wait_stable
from runs.lifecycle.deploys import deploy_lifecycle
from runs.models import Deploy, Revision, Service
from runs.services.leases import lease_fields
from runs.services.logbuffer import LogBuffer

logger = logging.getLogger(__name__)


def target_for(service: Service):
    """The service's deploy target, built only from its admin-configured record."""
    config = dict(service.target_config)
    config.setdefault("health_path", service.health_path)
    config.setdefault("state_dir", str(Path(settings.VAR_DIR) / "local-deploy"))
    return get_target(service.target_kind, config)


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


def deploy_fail(deploy: Deploy, error: str, log: LogBuffer | None = None) -> None:
    if log:
        log.write(f"[stageloop] deploy failed: {error}")
        log.flush()
    Deploy.objects.filter(pk=deploy.pk).update(
        status=Deploy.Status.FAILED, error=error, finished_at=timezone.now()
    )


def deploy_execute(deploy: Deploy) -> Revision | None:
    """Deploy `deploy.image`; on success the new revision is current and healthy, the previous
    one retired. On failure the Deploy says why and traffic stays where it was."""
    service = deploy.service
    previous = service.current_revision
    log = LogBuffer(Deploy, deploy.pk)
    log.write(f"[stageloop] deploying {deploy.image} to {service.name} ({service.target_kind})")
    try:
        target = target_for(service)
        request = DeployRequest(
            service=service.name,
            image=deploy.image,
            commit=deploy.commit_sha,
            env={"STAGELOOP_SERVICE": service.name},
        )
        info = target.deploy(
            request,
            log=log.write,
            on_operation=lambda op: Deploy.objects.filter(pk=deploy.pk).update(operation=op),
            on_start=lambda pid: Deploy.objects.filter(pk=deploy.pk).update(child_pgid=pid),
        )
    except DeployError as exc:
        deploy_fail(deploy, str(exc), log)
        return None
    except Exception as exc:  # an unexpected bug must still end the deploy, not leave it running
        logger.exception("deploy %s crashed", deploy.pk)
        deploy_fail(deploy, f"Stageloop failed while deploying: {exc!r}", log)
        return None
    revision = _revision_record(deploy=deploy, info=info, previous=previous)
    log.write(f"[stageloop] revision {revision.name} ready at {revision.url}; probing it")
    log.flush()
    stability = revision_wait_stable(service=service)
    if not stability.stable:
        _route(service=service, to=previous, away=revision)
        _retire(target, revision)
        Revision.objects.filter(pk=revision.pk).update(status=Revision.Status.FAILED)
        deploy_fail(
            deploy,
            f"revision {revision.name} never became healthy ({stability.last_error}); "
            f"traffic stayed on {previous.name if previous else 'nothing'}",
            log,
        )
        return None
    log.write(f"[stageloop] healthy after {stability.checks} probe rounds")
    if previous is not None and previous.pk != revision.pk:
        _retire(target, previous)
        Revision.objects.filter(pk=previous.pk).update(
            status=Revision.Status.RETIRED, retired_at=timezone.now(), traffic_percent=0
        )
    log.flush()
    Deploy.objects.filter(pk=deploy.pk).update(
        status=Deploy.Status.SUCCEEDED,
        finished_at=timezone.now(),
        traffic_before=[{"revision": previous.name, "percent": 100}] if previous else [],
        traffic_after=[{"revision": revision.name, "percent": 100}],
    )
    return revision


def _revision_record(*, deploy: Deploy, info: RevisionInfo, previous: Revision | None) -> Revision:
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
            traffic_percent=100,
            ready_at=timezone.now(),
            target_state=info.extra,
        )
        Deploy.objects.filter(pk=deploy.pk).update(revision=revision)
        _route(service=deploy.service, to=revision, away=previous)
    return revision


def _route(*, service: Service, to: Revision | None, away: Revision | None) -> None:
    """Make `to` the service's current revision (the URL its probes and suites use)."""
    Service.objects.filter(pk=service.pk).update(current_revision=to)
    service.current_revision = to
    if to is not None:
        Revision.objects.filter(pk=to.pk).update(traffic_percent=100)
    if away is not None:
        Revision.objects.filter(pk=away.pk).update(traffic_percent=0)


def _retire(target, revision: Revision) -> None:
    try:
        target.retire(
            RevisionInfo(
                name=revision.name, url=revision.url, status="ready", extra=revision.target_state
            )
        )
    except DeployError as exc:
        logger.warning("could not retire revision %s: %s", revision.name, exc)
