"""Sending the outbox: at once on commit, and again by the sweeper while the broker was down.

Every task message is first a row (runs.models.Outbox) written in the transaction of the rows
that need it (runs.services.enqueue). On commit it is sent and marked sent. A message the broker
did not take stays unsent; ``outbox_flush`` (called by the sweeper every minute) sends the due
ones again, oldest first, in bounded batches, and backs off while the broker stays down. A
message can reach a worker twice (sent, then the mark failed): every task claims its rows with a
conditional UPDATE and does its work once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from runs.models import Outbox

logger = logging.getLogger(__name__)

# A new message is the on-commit sender's for this long; only then may the sweeper send it (a
# web process killed between commit and send leaves it unsent, not lost).
FIRST_SEND_GRACE = timedelta(seconds=30)
# After the n-th failed send the next try waits 0 s (n = 1: the next sweep), then 30 s, 1 min,
# 2 min … up to BACKOFF_MAX, so a long outage costs one try per message every few minutes.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=10)
# A flush claims its batch for this long, so a second sweeper running at once skips it.
CLAIM = timedelta(minutes=2)
BATCH = 200
KEEP_SENT = timedelta(days=7)
PRUNE_BATCH = 5000


@dataclass
class OutboxFlush:
    sent: int = 0
    failed: int = 0
    unsent: int = 0  # still waiting after this flush
    pruned: int = 0


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try of a message that failed `attempts` times."""
    if attempts <= 1:
        return timedelta(0)
    return min(BACKOFF_BASE * 2 ** min(attempts - 2, 20), BACKOFF_MAX)


def outbox_write(*, task: str, args: list) -> Outbox:
    """Write a message; it belongs to the caller's transaction (sent by outbox_send on commit)."""
    return Outbox.objects.create(
        task=task,
        args=args,
        key=Outbox.key_for(task, args),
        next_attempt_at=timezone.now() + FIRST_SEND_GRACE,
    )


def _send(message: Outbox) -> None:
    current_app.send_task(message.task, args=tuple(message.args))


def _mark_sent(message: Outbox) -> None:
    Outbox.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )


def _mark_failed(message: Outbox, error: BaseException, now: datetime) -> None:
    attempts = message.attempts + 1
    Outbox.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        attempts=attempts,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=now + backoff(attempts),
    )


def outbox_send(message: Outbox) -> bool:
    """Send one message now (after its transaction committed) and mark it sent.

    Never raises: if the broker is down the message stays unsent for the sweeper, and the request
    that wrote it still succeeds."""
    try:
        _send(message)
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        logger.exception(
            "could not enqueue %s%s (outbox message %s); the sweeper will retry",
            message.task,
            tuple(message.args),
            message.pk,
        )
        try:
            _mark_failed(message, exc, timezone.now())
        except Exception:  # the database went too: the message is still unsent, as it should be
            logger.exception("outbox message %s: could not record the failed send", message.pk)
        return False
    try:
        _mark_sent(message)
    except Exception:  # sent but not marked: sent again later, and the task claims its rows once
        logger.exception("outbox message %s was sent but could not be marked sent", message.pk)
    return True


def outbox_flush(*, now: datetime | None = None, batch: int = BATCH) -> OutboxFlush:
    """Send the due unsent messages again, oldest first, at most `batch` of them; prune old sent
    ones. Stops at the first failure (the broker is down: the rest keep their turn)."""
    now = now or timezone.now()
    report = OutboxFlush()
    with transaction.atomic():
        due = list(
            Outbox.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, next_attempt_at__lte=now)
            .order_by("created_at", "pk")[:batch]
        )
        Outbox.objects.filter(pk__in=[m.pk for m in due]).update(next_attempt_at=now + CLAIM)
    for position, message in enumerate(due):
        try:
            _send(message)
        except Exception as exc:
            _mark_failed(message, exc, now)
            report.failed += 1
            rest = [m.pk for m in due[position + 1 :]]
            Outbox.objects.filter(pk__in=rest, sent_at__isnull=True).update(next_attempt_at=now)
            logger.warning(
                "outbox: could not send %s%s (attempt %s: %s); %s more wait for the broker",
                message.task,
                tuple(message.args),
                message.attempts + 1,
                exc,
                len(rest),
            )
            break
        _mark_sent(message)
        report.sent += 1
    report.pruned = outbox_prune(now=now)
    report.unsent = Outbox.objects.filter(sent_at__isnull=True).count()
    if report.sent:
        logger.warning("outbox: %s messages sent again, %s unsent", report.sent, report.unsent)
    return report


def outbox_prune(*, now: datetime | None = None) -> int:
    """Delete messages sent more than KEEP_SENT ago, at most PRUNE_BATCH per call."""
    cutoff = (now or timezone.now()) - KEEP_SENT
    old = list(Outbox.objects.filter(sent_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH])
    if not old:
        return 0
    return Outbox.objects.filter(pk__in=old).delete()[0]


def outbox_pending(*, key: str, since: datetime) -> bool:
    """Whether a message of `key` is still unsent, or was sent after `since`."""
    return (
        Outbox.objects.filter(key=key)
        .filter(Q(sent_at__isnull=True) | Q(sent_at__gt=since))
        .exists()
    )
