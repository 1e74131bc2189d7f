"""The JSON API under /api/v1/: token auth for machines, session auth (with CSRF) for browsers."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from runs.api.errors import ApiError, errors_install
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
        raise ApiError(
            403,
            "The CSRF token is missing or wrong: send the X-CSRFToken header with the "
            "csrftoken cookie's value.",
            code="csrf_failed",
        )
    return request.user


api = NinjaAPI(
    title="Stageloop API",
    version="1",
    description=(
        "Push test results and builds from CI, as one upload or streamed live while the suite "
        "runs (live runs). Authenticate with `Authorization: Bearer <token>` "
        "(any user may create one on the API tokens page). A token acts with its owner's "
        "current role: every role may read runs, verdicts and test states; uploads, live runs, "
        "builds, rollbacks, test state changes, failure triage and suite schedules need the "
        "Operator role, "
        "and a token without it gets 403.\n\n"
        "**Errors.** Every error, whatever its status (400, 401, 403, 404, 405, 409, 413, 500), is "
        'JSON of one shape, `ErrorOut`: `{"error": "<one sentence: what was wrong and what to '
        'do>", "code": "<a stable word such as invalid or not_found>", "field": "<the field at '
        'fault, or empty>", "file": "<the uploaded file at fault, or empty>", "errors": '
        '[{"field": "...", "message": "..."}]}`. Programs should branch on `code`; '
        "`errors` lists every field at fault when a request fails validation. A 409 may add "
        "fields of its own, documented with its operation (such as `url`, the page of the deploy "
        "that a registered build waits for)."
    ),
    auth=[ApiTokenAuth(), session_auth],
    urls_namespace="api",
)
errors_install(api)

from runs.api import (  # noqa: E402  (routers register on the api above)
    builds,
    live,
    retention,
    runs,
    schedules,
    services,
    signatures,
    states,
    verdicts,
)

# Live runs first: its POST /runs/live must not be read as GET /runs/{run_id} with id "live".
api.add_router("/runs", live.router)
api.add_router("/runs", runs.router)
api.add_router("/runs", retention.runs_router)
api.add_router("/builds", builds.router)
api.add_router("/services", services.router)
api.add_router("/services", states.suites_router)
api.add_router("/services", retention.suites_router)
api.add_router("/services", schedules.router)
api.add_router("/tests", states.tests_router)
api.add_router("/revisions", verdicts.router)
api.add_router("/signatures", signatures.router)
