"""Signing webhook bodies, the way Stripe does: ``t=<unix time>,v1=<hex HMAC-SHA256>``.

The HMAC covers ``"<t>.<body>"`` with the webhook's secret, so a receiver that checks the
timestamp is recent (five minutes, say) refuses a captured request replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from integrations.models import SECRET_PREFIX

SIGNATURE_HEADER = "Stageloop-Signature"
EVENT_HEADER = "Stageloop-Event"
DELIVERY_HEADER = "Stageloop-Delivery"
TOLERANCE_SECONDS = 300


def secret_new() -> str:
    """A fresh per-webhook secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_valid(
    *, secret: str, body: bytes, header: str, now: float | None = None, tolerance: int = 300
) -> bool:
    """What a receiver checks: a v1 signature of ``body`` that matches, made recently."""
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
