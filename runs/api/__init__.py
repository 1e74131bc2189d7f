"""The JSON API under /api/v1/: token auth for machines, session auth (with CSRF) for browsers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from runs.services.tokens import token_authenticate


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer slp_…` with a token from the user's Tokens page."""

    def authenticate(self, request: HttpRequest, token: str):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


def session_auth(request: HttpRequest):
    """A logged-in browser session; its unsafe requests must carry the CSRF token."""
    if not request.user.is_authenticated:
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request) is not None:
        raise HttpError(403, "CSRF token missing or wrong: send the X-CSRFToken header.")
    return request.user


api = NinjaAPI(
    title="Stageloop API",
    version="1",
    description=(
        "Push test results and builds from CI. Authenticate with `Authorization: Bearer <token>` "
        "(create a token on your Tokens page); uploads and builds need the Operator role."
    ),
    auth=[ApiTokenAuth(), session_auth],
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", []) if part not in ("body", "form")]
    field = location[-1] if location else ""
    message = first.get("msg", "invalid request")
    return api.create_response(
        request,
        {"error": f"{field or 'request'}: {message}", "field": field, "details": exc.errors},
        status=400,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"error": str(exc)}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": "A valid API token is required: send Authorization: Bearer <token>."},
        status=401,
    )


from runs.api import builds, runs  # noqa: E402  (routers register on the api above)

api.add_router("/runs", runs.router)
api.add_router("/builds", builds.router)
