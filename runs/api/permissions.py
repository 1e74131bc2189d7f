from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError


def require_perm(request: HttpRequest, perm: str) -> None:
    """403 with a sentence when the authenticated user lacks `perm`."""
    if not request.user.has_perm(perm):
        raise HttpError(403, "This token's user may not do that: it needs the Operator role.")
