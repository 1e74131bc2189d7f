"""Celery tasks of integrations: send due webhook deliveries, commit statuses and notifications,
fold digests, prune old rows (thin: the services do it)."""

from __future__ import annotations

from celery import shared_task

from integrations.services.commit_statuses import commit_statuses_prune, commit_statuses_send_due
from integrations.services.deliveries import deliveries_prune, deliveries_send_due
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
    name="integrations.tasks.commit_statuses_send",
    acks_late=True,
    ignore_result=True,
    time_limit=120,
    soft_time_limit=100,
)
def commit_statuses_send() -> int:
    """Post due commit statuses for up to 20 s; return how many were attempted."""
    return commit_statuses_send_due(budget_seconds=20.0).attempted


@shared_task(name="integrations.tasks.integrations_prune", ignore_result=True, time_limit=1800)
def integrations_prune() -> int:
    """Delete old finished deliveries and commit statuses (the beat, hourly)."""
    return deliveries_prune().deliveries + commit_statuses_prune()


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
