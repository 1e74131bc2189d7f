"""When a failed delivery or commit status is tried again."""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings


def retry_delay(
    attempts: int, *, retry_after: float | None = None, base_seconds: int | None = None
) -> timedelta:
    """How long after its ``attempts``-th failed attempt a delivery is tried again: what the
    receiver's Retry-After asked (at least a second, at most WEBHOOKS_RETRY_AFTER_MAX_SECONDS),
    else the exponential backoff."""
    if retry_after is not None:
        return timedelta(
            seconds=min(max(retry_after, 1.0), settings.WEBHOOKS_RETRY_AFTER_MAX_SECONDS)
        )
    if base_seconds is None:
        base_seconds = settings.WEBHOOKS_RETRY_BASE_SECONDS
    base = base_seconds * 2 ** min(attempts - 1, 20)
    return timedelta(seconds=base * (1 + random.random() / 5))  # jitter: up to a fifth more
