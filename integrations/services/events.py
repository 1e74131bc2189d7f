"""Emitting events: one delivery per matching webhook, written in the caller's transaction.

``event_emit`` is the one entry point; the functions below it are what the emitting services
call, one line each (runs through runs/integrations_seam.py, health directly). A transaction
that rolls back takes its deliveries with it, and the sender is woken only on commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from integrations import events
from integrations.models import Webhook, WebhookDelivery
from integrations.payloads import incident_data, rollback_data, run_data, verdict_data
from integrations.services.commit_statuses import commit_status_for_verdict
from integrations.services.enqueue import webhooks_send_on_commit
from runs.models import Deploy

Data = dict[str, Any] | Callable[[], dict[str, Any]]


def body_build(*, kind: str, event_id: uuid.UUID, service, data: dict[str, Any]) -> str:
    """The JSON body of an event, as every receiver of it gets it."""
    envelope = {
        "id": str(event_id),
        "type": kind,
        "created_at": timezone.now().isoformat(),
        "service": {"id": service.pk, "name": service.name} if service is not None else None,
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def event_emit(*, kind: str, service, payload: Data) -> int:
    """Write a pending delivery of event ``kind`` for each active webhook that wants it (of
    ``service`` or of every service) and wake the sender on commit; return how many.

    ``payload`` is the event's data, or a function building it, called only when a webhook
    wants the event (so an event nobody wants costs one query).
    """
    service_id = service.pk if service is not None else None
    wanted = [
        hook
        for hook in Webhook.objects.filter(active=True)
        .filter(Q(service__isnull=True) | Q(service_id=service_id))
        .only("pk", "events")
        if hook.wants(kind)
    ]
    if not wanted:
        return 0
    data = payload() if callable(payload) else payload
    event_id = uuid.uuid4()
    body = body_build(kind=kind, event_id=event_id, service=service, data=data)
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook=hook, event_id=event_id, kind=kind, body=body, next_attempt_at=now
            )
            for hook in wanted
        ]
    )
    webhooks_send_on_commit()
    return len(wanted)


def run_finished(*, run) -> None:
    """A run reached its final status: ``run.failed`` when it failed or ended in error."""
    if run.status in ("failed", "error"):
        event_emit(kind=events.RUN_FAILED, service=run.service, payload=lambda: run_data(run))


def verdict_made(*, verdict) -> None:
    """A gate verdict was stored: ``gate.failed`` when it failed; its commit status always."""
    commit_status_for_verdict(verdict=verdict)
    if verdict.outcome == "fail":
        service = verdict.revision.service
        event_emit(kind=events.GATE_FAILED, service=service, payload=lambda: verdict_data(verdict))


def rollback_finished(*, deploy_id: int) -> None:
    """A rollback deploy ended (a promotion, carried out the same way, is not a rollback)."""
    deploy = (
        Deploy.objects.select_related("service", "revision", "previous_revision")
        .filter(pk=deploy_id, trigger=Deploy.Trigger.ROLLBACK)
        .first()
    )
    if deploy is not None and deploy.status in ("succeeded", "failed"):
        event_emit(
            kind=events.ROLLBACK_FINISHED,
            service=deploy.service,
            payload=lambda: rollback_data(deploy),
        )


def release_rolled_back(*, deploy_id: int) -> None:
    """A gated or canary release sent traffic back to the stable revision (its own chain, or the
    sweeper for a release whose worker died): to receivers, a rollback that finished, succeeded
    (release ``rolled_back``) or failed (``failed``). Callers call it only after sending back."""
    deploy = (
        Deploy.objects.select_related("service", "revision", "previous_revision")
        .filter(pk=deploy_id, release__in=[Deploy.Release.ROLLED_BACK, Deploy.Release.FAILED])
        .first()
    )
    if deploy is not None:
        event_emit(
            kind=events.ROLLBACK_FINISHED,
            service=deploy.service,
            payload=lambda: rollback_data(deploy),
        )


def incident_opened(*, incident) -> None:
    event_emit(
        kind=events.INCIDENT_OPENED,
        service=incident.service,
        payload=lambda: incident_data(incident),
    )


def incident_closed(*, incident) -> None:
    event_emit(
        kind=events.INCIDENT_CLOSED,
        service=incident.service,
        payload=lambda: incident_data(incident),
    )
