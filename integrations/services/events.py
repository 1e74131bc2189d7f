"""Emitting events: one delivery per matching webhook and one notification per target of the
matching notification rules, written in the caller's transaction.

``event_emit`` is the one entry point; the functions below it are what the emitting services
call, one line each (runs through runs/integrations_seam.py, health and analyses directly). A
transaction that rolls back takes its deliveries with it, and the senders are woken only on
commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from integrations import events
from integrations.models import NotificationRule, Webhook, WebhookDelivery
from integrations.payloads import (
    action_item_data,
    analysis_data,
    flaky_data,
    incident_data,
    loop_data,
    rollback_data,
    run_data,
    signatures_data,
    slo_alert_data,
    test_state_data,
    verdict_data,
)
from integrations.services.commit_statuses import commit_status_for_verdict
from integrations.services.enqueue import webhooks_send_on_commit
from integrations.services.notifications import (
    Owners,
    OwnersArg,
    notifications_write,
    rules_matching,
)
from runs.models import Deploy, FailureSignature, TestCase, TestResult
from runs.selectors.flaky import recent_run_ids
from runs.selectors.owners import case_owners

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


def event_emit(
    *,
    kind: str,
    service,
    payload: Data,
    owners: OwnersArg = None,
    severity: str | None = None,
) -> int:
    """Write a pending delivery of event ``kind`` for each active webhook that wants it (of
    ``service`` or of every service), and a notification for each target of the notification
    rules that want it; wake the senders on commit; return how many webhook deliveries.

    ``payload`` is the event's data, or a function building it, called only when a webhook or
    a rule wants the event (so an event nobody wants costs two queries). ``owners`` (who owns
    what the event is about) and ``severity`` (default: the kind's) route notifications.
    """
    service_id = service.pk if service is not None else None
    wanted = [
        hook
        for hook in Webhook.objects.filter(active=True)
        .filter(Q(service__isnull=True) | Q(service_id=service_id))
        .only("pk", "events")
        if hook.wants(kind)
    ]
    severity = severity or events.SEVERITY.get(kind, events.INFO)
    rules = rules_matching(kind=kind, service_id=service_id, severity=severity, owners=owners)
    if not wanted and not rules:
        return 0
    data = payload() if callable(payload) else payload
    event_id = uuid.uuid4()
    if rules:
        notifications_write(
            rules=rules,
            kind=kind,
            service=service,
            severity=severity,
            data=data,
            event_id=event_id,
        )
    if not wanted:
        return 0
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
            severity=events.CRITICAL if deploy.status == "failed" else None,
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


def slo_alert_opened(*, alert) -> None:
    """A burn-rate alert opened: critical for a fast burn, warning for a slow one."""
    event_emit(
        kind=events.SLO_ALERT_OPENED,
        service=alert.service,
        payload=lambda: slo_alert_data(alert),
        severity=events.CRITICAL if alert.severity == "critical" else events.WARNING,
    )


def slo_alert_closed(*, alert) -> None:
    event_emit(
        kind=events.SLO_ALERT_CLOSED,
        service=alert.service,
        payload=lambda: slo_alert_data(alert),
    )


def _case_owners(*, suite_id: int, case_ids: list[int]) -> Owners:
    rules = [r for r in case_owners(suite_id=suite_id, case_ids=case_ids).values() if r]
    return Owners.of(users=(r.user_id for r in rules), teams=(r.team_id for r in rules))


def event_wanted(*, kind: str, service_id: int | None) -> bool:
    """Whether a webhook or a notification rule may want this event (two small queries): an
    emitter whose data costs a query asks first."""
    of_service = Q(service__isnull=True) | Q(service_id=service_id)
    hooks = Webhook.objects.filter(of_service, active=True).only("pk", "events")
    rules = NotificationRule.objects.filter(of_service, active=True).only("pk", "events")
    return any(hook.wants(kind) for hook in hooks) or any(
        not rule.events or kind in rule.events for rule in rules
    )


def run_results_judged(*, run) -> None:
    """A run's results are all written (inside the import's transaction): ``signature.new``
    for the failure signatures first seen in it, ``test.flaky`` for tests that had a flaky
    result in it and none in the suite's window before it. Their queries run only when a
    webhook or rule may want the event."""
    service_id = run.service_id
    if (run.failed or run.errors) and event_wanted(
        kind=events.SIGNATURE_NEW, service_id=service_id
    ):
        new = list(
            FailureSignature.objects.filter(
                suite_id=run.suite_id,
                first_seen_at__gte=run.created_at,
                pk__in=TestResult.objects.filter(run_id=run.pk).values("signature_id"),
            ).order_by("pk")
        )
        if new:
            event_emit(
                kind=events.SIGNATURE_NEW,
                service=run.service,
                payload=lambda: signatures_data(run, new),
            )
    if run.flaky and event_wanted(kind=events.TEST_FLAKY, service_id=service_id):
        before = [pk for pk in recent_run_ids(suite_id=run.suite_id) if pk != run.pk]
        earlier = TestResult.objects.filter(run_id__in=before, flaky=True).values("case_id")
        cases = list(
            TestCase.objects.filter(
                pk__in=TestResult.objects.filter(run_id=run.pk, flaky=True).values("case_id")
            )
            .exclude(pk__in=earlier)
            .order_by("name", "pk")
        )
        if cases:
            event_emit(
                kind=events.TEST_FLAKY,
                service=run.service,
                payload=lambda: flaky_data(run, cases),
                owners=lambda: _case_owners(suite_id=run.suite_id, case_ids=[c.pk for c in cases]),
            )


def test_state_changed(*, case, state: str, before: str, reason: str, automatic: bool) -> None:
    """A test's state changed: ``test.quarantined`` when it became quarantined,
    ``test.released`` when a quarantine or disable ended (by a person, the policy or expiry)."""
    if state == "quarantined" and before != "quarantined":
        kind = events.TEST_QUARANTINED
    elif state == "active" and before in ("quarantined", "disabled"):
        kind = events.TEST_RELEASED
    else:
        return
    event_emit(
        kind=kind,
        service=case.suite.service,
        payload=lambda: test_state_data(case, state=state, reason=reason, automatic=automatic),
        owners=lambda: _case_owners(suite_id=case.suite_id, case_ids=[case.pk]),
    )


def loop_ended(*, loop) -> None:
    """A loop finished: ``loop.finished`` when green, ``loop.gave_up`` when out of iterations."""
    kinds = {"succeeded": events.LOOP_FINISHED, "exhausted": events.LOOP_GAVE_UP}
    if loop.status in kinds:
        event_emit(kind=kinds[loop.status], service=loop.service, payload=lambda: loop_data(loop))


def action_item_overdue(*, item, owners: OwnersArg) -> None:
    event_emit(
        kind=events.ACTION_ITEM_OVERDUE,
        service=item.analysis.service,
        payload=lambda: action_item_data(item),
        owners=owners,
    )


def analysis_verified(*, analysis, owners: OwnersArg) -> None:
    event_emit(
        kind=events.ANALYSIS_VERIFIED,
        service=analysis.service,
        payload=lambda: analysis_data(analysis),
        owners=owners,
    )
