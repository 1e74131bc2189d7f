"""Sending the webhook sender's task, by name (services never import tasks).

The deliveries table is the queue: a message only wakes a worker up sooner. If the broker is
down, nothing is lost; the beat's "webhooks-send" entry finds the due deliveries within seconds.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

WEBHOOKS_SEND = "integrations.tasks.webhooks_send"


def webhooks_send_on_commit() -> None:
    """Wake a worker to send due deliveries once the current transaction commits."""
    transaction.on_commit(_send)


def _send() -> None:
    try:
        current_app.send_task(WEBHOOKS_SEND)
    except Exception:  # kombu raises several kinds for an unreachable broker
        logger.warning("could not enqueue %s; the beat sends the deliveries later", WEBHOOKS_SEND)


NOTIFICATIONS_SEND = "integrations.tasks.notifications_send"


def notifications_send_on_commit() -> None:
    """Wake a worker to send due notifications once the current transaction commits."""
    transaction.on_commit(_send_notifications)


def _send_notifications() -> None:
    try:
        current_app.send_task(NOTIFICATIONS_SEND)
    except Exception:  # kombu raises several kinds for an unreachable broker
        logger.warning(
            "could not enqueue %s; the beat sends the notifications later", NOTIFICATIONS_SEND
        )
