"""Sending due notifications: the deliveries table is the queue, as for webhooks.

A claim moves due rows to ``delivering`` with a lease in one transaction (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), so two workers never send one message twice; a row whose worker died is
claimed again when its lease runs out. Messages go out concurrently from a thread pool, outside
any transaction: Apprise URLs through Apprise (their hosts pass the SSRF guard again first),
email through Django's email backend. Each send has a deadline: a receiver that hangs is
recorded as a timeout and the worker moves on (its thread ends at the socket timeout). Failures
are retried with backoff, then given up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.apprise_channels import (
    AppriseUrlInvalid,
    Result,
    apprise_check,
    apprise_secrets,
    apprise_send,
    scrub,
)
from integrations.messages import Message
from integrations.models import Channel, NotificationDelivery
from integrations.services.deliveries import retry_delay

logger = logging.getLogger(__name__)

Status = NotificationDelivery.Status


@dataclass
class NotifyReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def notifications_claim(*, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due notifications (oldest due first); return their ids."""
    lease = now + timedelta(seconds=settings.NOTIFICATIONS_TIMEOUT + 60)
    due = NotificationDelivery.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Status.DELIVERING, claimed_until__lt=now)
    ).order_by("next_attempt_at", "pk")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            NotificationDelivery.objects.filter(pk__in=ids).update(
                status=Status.DELIVERING, claimed_until=lease, attempts=F("attempts") + 1
            )
    return ids


def notifications_send_due(
    *, budget_seconds: float = 20.0, now: datetime | None = None
) -> NotifyReport:
    """Claim and send due notifications in batches until none are due or the budget is spent.
    ``now`` (tests) claims one batch as if it were that time, so a retry's backoff is skipped."""
    report = NotifyReport()
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds:
        ids = notifications_claim(now=now or timezone.now(), limit=settings.NOTIFICATIONS_BATCH)
        if ids:
            notifications_send(ids=ids, report=report)
        if not ids or now is not None:
            break
    return report


def _email_send(*, to: list[str], message: Message) -> Result:
    started = time.perf_counter()
    try:
        send_mail(
            subject=message.title,
            message=f"{message.line}\n\n{message.link}\n",
            from_email=None,
            recipient_list=to,
            connection=get_connection(timeout=settings.NOTIFICATIONS_TIMEOUT),
        )
    except Exception as exc:  # smtplib and socket errors: each an outcome, never lost
        ms = round((time.perf_counter() - started) * 1000)
        return Result(
            False, f"The mail server refused or failed ({type(exc).__name__}: {exc}).", ms
        )
    return Result(True, "", round((time.perf_counter() - started) * 1000))


def _send_one(row: NotificationDelivery) -> Result:
    message = Message(row.title, row.text, row.link)
    channel = row.channel
    if channel is None:
        return _email_send(to=[row.email], message=message)
    if channel.kind == Channel.Kind.EMAIL:
        return _email_send(to=[a.strip() for a in channel.emails.split(",")], message=message)
    try:  # again at each send: the name may resolve elsewhere now, or the admin's switch changed
        apprise_check(channel.url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
    except AppriseUrlInvalid as exc:
        return Result(False, f"Not sent: {exc}", 0)
    total = float(settings.NOTIFICATIONS_TIMEOUT)
    return apprise_send(
        channel.url,
        title=message.title,
        body=message.text,
        connect_timeout=min(3.0, total),
        read_timeout=total,
    )


def notifications_send(*, ids: Sequence[int], report: NotifyReport | None = None) -> NotifyReport:
    """Send the claimed notifications ``ids`` and record how each went."""
    report = report or NotifyReport()
    rows = list(
        NotificationDelivery.objects.filter(pk__in=ids, status=Status.DELIVERING).select_related(
            "channel"
        )
    )
    if not rows:
        return report
    deadline = settings.NOTIFICATIONS_TIMEOUT + 2  # a hanging receiver is cut off here
    pool = ThreadPoolExecutor(
        max_workers=min(settings.NOTIFICATIONS_CONCURRENCY, len(rows)),
        thread_name_prefix="notify",
    )
    futures = {pool.submit(_send_one, row): row for row in rows}
    done, _ = wait(futures, timeout=deadline)
    # Never wait for a thread stuck on a receiver: it ends at its socket timeout on its own.
    pool.shutdown(wait=False, cancel_futures=True)
    outcomes: list[tuple[NotificationDelivery, Result]] = []
    for future, row in futures.items():
        if future in done:
            try:
                outcomes.append((row, future.result()))
            except Exception as exc:  # a bug in one send must not lose the others' outcomes
                outcomes.append((row, Result(False, f"{type(exc).__name__}: {exc}", 0)))
        else:
            outcomes.append(
                (row, Result(False, f"No answer within {deadline} s; Stageloop tries again.", 0))
            )
    notifications_record(outcomes=outcomes, report=report)
    return report


def notifications_record(
    *, outcomes: Sequence[tuple[NotificationDelivery, Result]], report: NotifyReport
) -> None:
    now = timezone.now()
    with transaction.atomic():
        for row, result in outcomes:
            secrets = apprise_secrets(row.channel.url) if row.channel and row.channel.url else []
            error = scrub(result.error, secrets)[:1000]
            values: dict = {
                "claimed_until": None,
                "response_ms": result.response_ms,
                "error": error,
            }
            if result.ok:
                values |= {"status": Status.DELIVERED, "next_attempt_at": None, "finished_at": now}
                report.delivered += 1
            elif row.attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
                values |= {
                    "status": Status.PENDING,
                    "next_attempt_at": now + retry_delay(row.attempts),
                }
                report.retrying += 1
            else:
                values |= {
                    "status": Status.GIVEN_UP,
                    "next_attempt_at": None,
                    "finished_at": now,
                    "error": f"{error} Gave up after {row.attempts} attempts."[:1000],
                }
                report.failed += 1
            if not result.ok:
                logger.warning("notification %s to %s failed: %s", row.pk, row.target, error)
            report.attempted += 1
            NotificationDelivery.objects.filter(pk=row.pk, status=Status.DELIVERING).update(
                **values
            )
