"""Probe locations: which Celery queue serves a location, and which location this worker is.

A worker names its location with ``STAGELOOP_PROBE_LOCATION`` and consumes that location's queue
(``celery -A dashboard worker -Q probes.eu``). The default location is served from Celery's
default queue, so a single worker (and ``make run``) probes everything as before.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import current_app
from django.conf import settings
from kombu.exceptions import ChannelError

from health.models import DEFAULT_LOCATION

logger = logging.getLogger(__name__)

QUEUE_PREFIX = "probes."
BATCH_TASK = "health.tasks.probes_run_batch"


def location_queue(label: str) -> str | None:
    """The queue of ``label``'s workers, or None for the default location (the default queue)."""
    return None if label == DEFAULT_LOCATION else QUEUE_PREFIX + label


def location_here() -> str:
    """The location label of this worker (``STAGELOOP_PROBE_LOCATION``)."""
    return str(getattr(settings, "HEALTH_PROBE_LOCATION", DEFAULT_LOCATION))


def location_queue_drop_stale(queue: str, *, now: datetime) -> int:
    """Delete the probe batches waiting in ``queue`` whose ``expires`` has passed, oldest first,
    up to the first one still current; return how many were deleted.

    A batch expires a minute after its probes were due, but Celery only applies that when a
    worker reads the batch, and neither kombu's Redis nor its filesystem transport expires a
    message by itself (Redis knows only a queue's ``x-expires``, which every publish renews).
    So a location with no worker would keep every batch sent to it; dispatch calls this for
    each location queue it sends to, which keeps such a queue to the batches of the last
    minute. A location with a worker has nothing waiting here: its worker takes batches as
    they come and holds them until their ETA.
    """
    dropped = 0
    with current_app.connection_for_write() as connection:
        # kombu's stubs type it as the abstract StdChannel, without the AMQP-style methods
        channel: Any = connection.default_channel
        try:
            _, waiting, _ = channel.queue_declare(queue, passive=True)
        except ChannelError:  # never declared: nothing was ever sent to it
            return 0
        for _ in range(waiting):
            message = channel.basic_get(queue, no_ack=False)
            if message is None:  # a worker took the rest meanwhile
                break
            headers = message.headers or {}
            expires = headers.get("expires")
            if headers.get("task") == BATCH_TASK and expires and _passed(expires, now):
                message.ack()
                dropped += 1
                continue
            # The oldest batch still current: the ones after it were sent later.
            message.reject(requeue=True)
            break
    if dropped:
        logger.warning(
            "dropped %s expired probe batches from %s: does a worker consume that queue?",
            dropped,
            queue,
        )
    return dropped


def _passed(expires: str, now: datetime) -> bool:
    try:
        return datetime.fromisoformat(expires) <= now
    except (TypeError, ValueError):  # not a time we wrote: keep the message
        return False
