from __future__ import annotations

from django.http import HttpRequest

from runs.api.errors import ApiError
from runs.selectors.tokens import action_refusal


def require_action(request: HttpRequest, action: str) -> None:
    """403 with a sentence unless the request's user (a token's owner) may do `action` now."""
    refusal = action_refusal(user=request.user, action=action)
    if refusal is not None:
        raise ApiError(403, refusal)
