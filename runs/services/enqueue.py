"""Enqueue a task once the transaction that wrote its rows commits, surviving a broker outage."""

from __future__ import annotations

import logging

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args: int) -> None:
    """Send `task(*args)` after commit. If the broker is down, the rows stay queued and the
    request still succeeds: the sweeper sends queued work again (runs.services.sweeper)."""

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:  # kombu raises several kinds for an unreachable broker
            logger.exception("could not enqueue %s%s; the sweeper will retry", task.name, args)

    transaction.on_commit(send)
