"""API tokens: created with a secret shown once, stored as a SHA-256 digest, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from runs.models import ApiToken

PREFIX = "slp_"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it and the secret, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValueError("Give the token a name, such as the CI pipeline that will use it.")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[:12], digest=_digest(raw)
    )
    return token, raw


def token_authenticate(raw: str):
    """The active user of a valid, unrevoked token, or None."""
    if not raw.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_revoke(*, user, token_id: int) -> bool:
    """Revoke one of `user`'s own tokens; False when there is no such active token."""
    return bool(
        ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
