"""Reading a receiver's ``Retry-After`` (RFC 9110 §10.2.3): seconds, or an HTTP date.

Pure Python, no Django: the senders read it from a 429 or 503 (and GitHub's rate limit) and the
services put the next attempt there, capped.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """How many seconds ``value`` asks to wait (0 for a date in the past); None when absent or
    unreadable, so the usual backoff applies."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; a date without a zone is read as such
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))
