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
COMMIT_STATUSES_SEND = "integrations.tasks.commit_statuses_send"
NOTIFICATIONS_SEND = "integrations.tasks.notifications_send"


def webhooks_send_on_commit() -> None:
    """Wake a worker to send due deliveries once the current transaction commits."""
    transaction.on_commit(_send)


def commit_statuses_send_on_commit() -> None:
    """Wake a worker to post due commit statuses once the current transaction commits."""
    transaction.on_commit(lambda: _send(COMMIT_STATUSES_SEND))


def _send(name: str = WEBHOOKS_SEND) -> None:
    try:
        current_app.send_task(name)
    except Exception:  # kombu raises several kinds for an unreachable broker
        logger.warning("could not enqueue %s; the beat sends its rows later", name)


def notifications_send_on_commit() -> None:
    """Wake a worker to send due notifications once the current transaction commits."""
    transaction.on_commit(lambda: _send(NOTIFICATIONS_SEND))
