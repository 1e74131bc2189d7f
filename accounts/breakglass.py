"""Break-glass sign-in links: for an admin locked out while password sign-in is off or the
identity provider is down. A link is signed with SECRET_KEY, names one active superuser, works
once (it is bound to the user's last sign-in, which using it changes) and only until it expires.
Nothing is stored: a link cannot be listed or stolen from the database."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "stageloop.accounts.breakglass"
MAX_MINUTES = 60


class BreakglassRefused(Exception):
    """str() is the sentence the page shows."""


def _fingerprint(user) -> str:
    # Changes when the user signs in (last_login), changes password or loses the admin role.
    state = f"{user.pk}|{user.password}|{user.last_login}|{user.is_active}|{user.is_superuser}"
    return salted_hmac(_SALT, state).hexdigest()[:32]


def breakglass_token_make(*, user, minutes: int) -> str:
    """A one-time token that signs `user` in within `minutes` (1 to MAX_MINUTES)."""
    if not (user.is_active and user.is_superuser):
        raise BreakglassRefused(
            f"{user.get_username()} is not an active admin (superuser): break-glass sign-in is "
            "only for admins (manage.py createsuperuser makes one)."
        )
    if not 1 <= minutes <= MAX_MINUTES:
        raise BreakglassRefused(f"A link lives 1 to {MAX_MINUTES} minutes, not {minutes}.")
    payload = {"u": user.pk, "f": _fingerprint(user), "e": int(time.time()) + minutes * 60}
    return signing.dumps(payload, salt=_SALT)


def breakglass_user(token: str):
    """The admin the token signs in, or BreakglassRefused saying why not."""
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        raise BreakglassRefused(
            "This break-glass link is not valid (it was cut short or changed). Copy the whole "
            "link, or make a new one with manage.py breakglass_login."
        ) from None
    if time.time() > payload["e"]:
        raise BreakglassRefused(
            "This break-glass link has expired. Make a new one with manage.py breakglass_login."
        )
    user = get_user_model().objects.filter(pk=payload["u"]).first()
    if user is None or not constant_time_compare(_fingerprint(user), payload["f"]):
        raise BreakglassRefused(
            "This break-glass link was already used (or the account changed since it was made). "
            "Make a new one with manage.py breakglass_login."
        )
    return user
