"""Celery tasks of integrations: send the due webhook deliveries (thin: the service does it)."""

from __future__ import annotations

from celery import shared_task

from integrations.services.deliveries import deliveries_send_due


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
