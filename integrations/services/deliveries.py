"""Sending due deliveries: the database is the work queue.

A claim moves due rows to ``delivering`` with a lease (``claimed_until``) in one transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's BEGIN IMMEDIATE makes it exclusive), so two
workers never send one delivery at once; a row whose worker died is claimed again when its lease
runs out. The HTTP calls run outside any transaction, concurrently; then each outcome is
recorded: delivered, failed (refused by the receiver: no retry), pending again after a backoff
(5xx, 408, 429, timeouts, connection errors) or given up after the last attempt. A webhook whose
attempts fail ``WEBHOOKS_PAUSE_AFTER`` times in a row is paused and its creator emailed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations import events
from integrations.models import Webhook, WebhookDelivery
from integrations.payloads import EXAMPLES, link
from integrations.sending import Outgoing, Sent, Timeouts, deliveries_post
from integrations.services.backoff import retry_delay
from integrations.services.enqueue import webhooks_send_on_commit
from integrations.services.events import body_build

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
_RECORDED = [
    "status",
    "next_attempt_at",
    "finished_at",
    "claimed_until",
    "last_status_code",
    "response_ms",
    "response_excerpt",
    "error",
]


@dataclass
class SendReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # failed or given up
    paused: int = 0  # webhooks paused


def deliveries_claim(*, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due deliveries (oldest due first); return their ids."""
    lease = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT + 60)
    due = (
        WebhookDelivery.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Status.DELIVERING, claimed_until__lt=now)
        )
        # A paused webhook keeps its deliveries; a test event or a redelivery goes anyway.
        .filter(Q(webhook__active=True) | Q(manual=True))
        .order_by("next_attempt_at", "pk")
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(
                status=Status.DELIVERING, claimed_until=lease, attempts=F("attempts") + 1
            )
    return ids


def deliveries_send_due(*, budget_seconds: float = 20.0, now: datetime | None = None) -> SendReport:
    """Claim and send due deliveries in batches until none are due or the budget is spent.

    ``now`` (tests) claims one batch as if it were that time, so a retry's backoff is skipped.
    """
    report = SendReport()
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds:
        ids = deliveries_claim(now=now or timezone.now(), limit=settings.WEBHOOKS_BATCH)
        if ids:
            deliveries_send(ids=ids, report=report)
        if not ids or now is not None:
            break
    return report


def deliveries_send(*, ids: Sequence[int], report: SendReport | None = None) -> SendReport:
    """Send the claimed deliveries ``ids`` and record how each went."""
    report = report or SendReport()
    rows = list(
        WebhookDelivery.objects.filter(pk__in=ids, status=Status.DELIVERING).select_related(
            "webhook"
        )
    )
    items = [
        Outgoing(
            delivery_id=row.pk,
            delivery_uuid=str(row.uuid),
            kind=row.kind,
            url=row.webhook.url,
            secret=row.webhook.secret,
            old_secret=row.webhook.old_secret_valid(),
            body=row.body,
        )
        for row in rows
    ]
    outcomes = deliveries_post(
        items,
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE,
        concurrency=settings.WEBHOOKS_CONCURRENCY,
        timeouts=Timeouts(
            connect=settings.WEBHOOKS_CONNECT_TIMEOUT, total=settings.WEBHOOKS_TIMEOUT
        ),
    )
    deliveries_record(rows=rows, outcomes=outcomes, report=report)
    return report


def deliveries_record(
    *, rows: Sequence[WebhookDelivery], outcomes: Sequence[Sent], report: SendReport
) -> None:
    """Store each outcome on its delivery and step its webhook's failure counter."""
    now = timezone.now()
    by_id = {row.pk: row for row in rows}
    streaks: dict[int, tuple[bool, int]] = {}  # webhook -> (a success seen, failures after it)
    last_error: dict[int, str] = {}
    changed: list[WebhookDelivery] = []
    for sent in outcomes:
        row = by_id[sent.delivery_id]
        row.last_status_code, row.response_ms = sent.status_code, sent.response_ms
        row.response_excerpt, row.error, row.claimed_until = sent.excerpt, sent.error, None
        if sent.ok:
            row.status, row.next_attempt_at, row.finished_at = Status.DELIVERED, None, now
            report.delivered += 1
        elif sent.retry and row.attempts < settings.WEBHOOKS_MAX_ATTEMPTS:
            row.status = Status.PENDING
            row.next_attempt_at = now + retry_delay(row.attempts, retry_after=sent.retry_after)
            report.retrying += 1
        else:
            row.status = Status.GIVEN_UP if sent.retry else Status.FAILED
            if sent.retry:
                row.error = f"{sent.error} Gave up after {row.attempts} attempts."[:500]
            row.next_attempt_at, row.finished_at = None, now
            report.failed += 1
        report.attempted += 1
        changed.append(row)
        seen, failures = streaks.get(row.webhook_id, (False, 0))
        streaks[row.webhook_id] = (True, 0) if sent.ok else (seen, failures + 1)
        if not sent.ok:
            last_error[row.webhook_id] = sent.error
    with transaction.atomic():
        _rows_store(changed)
        for webhook_id, (seen, failures) in streaks.items():
            hooks = Webhook.objects.filter(pk=webhook_id)
            if seen:
                hooks.update(consecutive_failures=failures)
            else:
                hooks.update(consecutive_failures=F("consecutive_failures") + failures)
            if failures and _pause_if_failing(webhook_id, last_error.get(webhook_id, ""), now):
                report.paused += 1


def _rows_store(rows: Sequence[WebhookDelivery]) -> None:
    """One parametrized UPDATE for the batch (executemany: pipelined on PostgreSQL), each row
    only while still delivering (Django's bulk_update builds a CASE per field per row: seconds
    for a batch of 200)."""
    table = WebhookDelivery._meta.db_table
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in _RECORDED)
    sql = f"UPDATE {table} SET {columns} WHERE id = %s AND status = %s"  # noqa: S608 (no input)
    params = [
        [
            connection.ops.adapt_datetimefield_value(value)
            if isinstance(value, datetime)
            else value
            for value in (getattr(row, name) for name in _RECORDED)
        ]
        + [row.pk, Status.DELIVERING.value]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _pause_if_failing(webhook_id: int, error: str, now: datetime) -> bool:
    limit = settings.WEBHOOKS_PAUSE_AFTER
    reason = f"Paused after {limit} failed deliveries in a row; the last: {error}"[:500]
    paused = Webhook.objects.filter(
        pk=webhook_id, active=True, consecutive_failures__gte=limit
    ).update(active=False, paused_reason=reason, paused_at=now)
    if paused:
        logger.warning("webhook %s paused after %s failed deliveries", webhook_id, limit)
        transaction.on_commit(lambda: _tell_creator(webhook_id))
    return bool(paused)


def _tell_creator(webhook_id: int) -> None:
    hook = Webhook.objects.select_related("created_by").filter(pk=webhook_id).first()
    if hook is None or hook.created_by is None or not hook.created_by.email:
        logger.info("webhook %s paused: no creator email to tell", webhook_id)
        return
    try:
        send_mail(
            subject=f"Stageloop paused the webhook {hook.name}",
            message=(
                f"{hook.paused_reason}\n\nFix the receiver, then resume the webhook: "
                f"{link('webhook-detail', hook.pk)}\nDeliveries wait while it is paused."
            ),
            from_email=None,
            recipient_list=[hook.created_by.email],
        )
    except Exception:  # the pause stands; a mail server being down must not undo it
        logger.exception("webhook %s paused, but the email to its creator failed", webhook_id)


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's body again, as a new delivery of the same event (even if paused)."""
    copy = WebhookDelivery.objects.create(
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        kind=delivery.kind,
        body=delivery.body,
        manual=True,
        redelivery_of=delivery,
        next_attempt_at=timezone.now(),
    )
    webhooks_send_on_commit()
    return copy


def webhook_test_send(*, webhook: Webhook) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this webhook alone (even if paused)."""
    event_id = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event_id=event_id,
        kind=events.TEST,
        body=body_build(
            kind=events.TEST, event_id=event_id, service=webhook.service, data=EXAMPLES[events.TEST]
        ),
        manual=True,
        next_attempt_at=timezone.now(),
    )
    webhooks_send_on_commit()
    return delivery


@dataclass
class PruneReport:
    deliveries: int = 0
    secrets: int = 0


def deliveries_prune(*, now: datetime | None = None, batch: int = 5000) -> PruneReport:
    """Delete finished deliveries older than WEBHOOKS_DELIVERIES_KEEP_DAYS, except each webhook's
    latest WEBHOOKS_DELIVERIES_KEEP_LATEST; forget previous secrets whose grace has ended.
    Deletes in short batches, each its own transaction."""
    now = now or timezone.now()
    report = PruneReport()
    report.secrets = Webhook.objects.filter(old_secret_expires_at__lte=now).update(
        old_secret="", old_secret_expires_at=None
    )
    days = settings.WEBHOOKS_DELIVERIES_KEEP_DAYS
    if not days:
        return report
    cutoff = now - timedelta(days=days)
    keep = settings.WEBHOOKS_DELIVERIES_KEEP_LATEST
    # Webhooks are few (tens); the deliveries are many: one bounded query per webhook finds
    # where its latest ``keep`` begin, then old rows go in batches.
    for webhook_id in Webhook.objects.values_list("pk", flat=True):
        old = WebhookDelivery.objects.filter(
            webhook_id=webhook_id, created_at__lt=cutoff, status__in=WebhookDelivery.FINISHED
        )
        if keep:
            latest = (
                WebhookDelivery.objects.filter(webhook_id=webhook_id)
                .order_by("-created_at", "-pk")
                .values_list("created_at", flat=True)[keep - 1 : keep]
            )
            edge = next(iter(latest), None)
            if edge is None:
                continue  # fewer than ``keep`` in all: all are kept
            old = old.filter(created_at__lt=edge)
        while True:
            ids = list(old.values_list("pk", flat=True)[:batch])
            if not ids:
                break
            report.deliveries += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
    return report
