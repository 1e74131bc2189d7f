"""Celery tasks of integrations: send the due webhook deliveries and notifications, fold
digests (thin: the services do it)."""

from __future__ import annotations

from celery import shared_task

from integrations.services.deliveries import deliveries_send_due
from integrations.services.notification_sending import notifications_send_due
from integrations.services.notifications import notifications_digest


@shared_task(
    name="integrations.tasks.webhooks_send",
    acks_late=True,
    ignore_result=True,
    time_limit=120,
    soft_time_limit=100,
)
def webhooks_send() -> int:
    """Send due deliveries, batch after batch for up to 20 s; return how many were attempted.
    Two at once never send one delivery twice: each claims its rows."""
    return deliveries_send_due(budget_seconds=20.0).attempted


@shared_task(
    name="integrations.tasks.notifications_send",
    acks_late=True,
    ignore_result=True,
    time_limit=120,
    soft_time_limit=100,
)
def notifications_send() -> int:
    """Send due notifications, batch after batch for up to 20 s; return how many were tried."""
    return notifications_send_due(budget_seconds=20.0).attempted


@shared_task(name="integrations.tasks.notifications_digest", ignore_result=True, time_limit=120)
def notifications_digest_task() -> int:
    """Fold the held messages whose digest period ended into one message per target."""
    return notifications_digest()
