"""Stop what local deploys started: `make run` calls this when Ctrl-C stops web, worker and beat."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from engine.deploy import DeployError, RevisionInfo
from runs.models import Revision, Service
from runs.services.deploy_step import target_for

logger = logging.getLogger(__name__)


def local_services_stop() -> list[Revision]:
    """Stop the process of every live revision of a local-target service; record each as retired.

    Only revisions in this database are touched, so another Stageloop on the same machine keeps
    its own processes. Returns the revisions that were stopped."""
    stopped: list[Revision] = []
    live = Revision.objects.filter(
        service__target_kind=Service.TargetKind.LOCAL,
        status__in=[Revision.Status.READY, Revision.Status.PENDING],
    ).select_related("service")
    for revision in live:
        try:
            target_for(revision.service).retire(
                RevisionInfo(
                    name=revision.name,
                    url=revision.url,
                    status="ready",
                    extra=revision.target_state,
                )
            )
        except DeployError as exc:
            logger.warning("could not stop revision %s (id %s): %s", revision, revision.pk, exc)
            continue
        with transaction.atomic():
            Revision.objects.filter(pk=revision.pk).update(
                status=Revision.Status.RETIRED, retired_at=timezone.now(), traffic_percent=0
            )
            Service.objects.filter(pk=revision.service_id, current_revision=revision).update(
                current_revision=None
            )
        stopped.append(revision)
    return stopped
