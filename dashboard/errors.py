"""Stageloop's own answers to 400, 403, 404 and 500: a page in the site's look, one sentence;
under /api/, JSON in the API's error shape (runs/api/errors.py).

Django's DEBUG is off in every mode (see settings), so these handlers answer every error, also
under `make run`; tracebacks go to the log, never to the page.
"""

from __future__ import annotations

import logging
import sys
import uuid

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.log import log_response

from dashboard.upload_limits import UploadTooLarge
from runs.api.errors import DOCS_URL, error_response, is_api, not_found_sentence
from runs.selectors.roles import role_text

logger = logging.getLogger(__name__)

# Shown when even the error template cannot be rendered (a broken template, a missing file).
_BARE_500 = (
    "<!doctype html><title>Server error · Stageloop</title><h1>Server error</h1>"
    "<p>Something went wrong on our side and it was logged (reference {reference}). "
    'Try again in a moment. <a href="/">Go to the overview</a>.</p>'
)


def _back_url(request: HttpRequest) -> str:
    """The page the user came from, when it is on this site and is not this very page."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
        here = request.build_absolute_uri()
    except DisallowedHost:
        return ""
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    )
    return referer if referer and safe and referer != here else ""


def _page(
    request: HttpRequest, *, status: int, title: str, sentence: str, with_request: bool = True
) -> HttpResponse:
    context = {
        "status": status,
        "title": title,
        "sentence": sentence,
        "back_url": _back_url(request),
    }
    html = loader.render_to_string(
        "errors/page.html", context, request=request if with_request else None
    )
    return HttpResponse(html, status=status)


def _who(request: HttpRequest) -> tuple[str, str]:
    """The signed-in user's name and roles, or ("", "") for an anonymous request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "", ""
    return user.get_username(), role_text(user)


def too_large(request: HttpRequest, exception: Exception) -> HttpResponse:
    """413: an upload over the limits (dashboard/uploads.py) or a body over Django's."""
    if isinstance(exception, UploadTooLarge):
        sentence = str(exception)
    else:
        sentence = (
            "The request body is over the size this server accepts: send reports as "
            "multipart files and keep the other fields small."
        )
    if is_api(request):
        return error_response(413, sentence)
    return _page(request, status=413, title="Upload too large", sentence=sentence)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return too_large(request, exception)
    if is_api(request):
        return error_response(
            400, f"That request could not be understood: check it against {DOCS_URL}."
        )
    return _page(
        request,
        status=400,
        title="Bad request",
        sentence=(
            "That request could not be understood, so nothing was done: check the address, "
            "or reload the page and try again."
        ),
    )


def bad_input(request: HttpRequest, sentence: str, *, field: str = "") -> HttpResponse:
    """400 for request input a view cannot use (a NUL character, a malformed parameter):
    the sentence says what to change; JSON naming the field under /api/, else a page."""
    if is_api(request):
        return error_response(400, sentence, "invalid", field=field)
    return _page(request, status=400, title="Bad request", sentence=sentence)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 for a permission denial; logged as one line with user and path, no traceback."""
    username, role = _who(request)
    if username:
        sentence = (
            f"You are signed in as {username} ({role}), and that role may not do this. "
            "Deploying, testing and writing analyses need the Operator role, exports the "
            "Manager role: ask an admin if you need one."
        )
    else:
        sentence = "This needs you to be signed in with a role that may do it: sign in first."
    response: HttpResponse
    if is_api(request):
        response = error_response(403, sentence)
    else:
        response = _page(request, status=403, title="Not allowed", sentence=sentence)
    # A denial is an expected answer, not a fault: one line, and Django's own traceback is skipped.
    log_response(
        "Forbidden (permission denied): %s %s by %s",
        request.method,
        request.path,
        username or "an anonymous user",
        response=response,
        request=request,
    )
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a missing or stale CSRF token (Django logs the reason on django.security.csrf)."""
    if is_api(request):
        return error_response(
            403, "The CSRF token is missing or wrong: send the X-CSRFToken header.", "csrf_failed"
        )
    return _page(
        request,
        status=403,
        title="Form expired",
        sentence=(
            "The form was refused because its security token was missing or out of date, "
            "which happens when a page stays open across a sign-in: reload the page and "
            "try again."
        ),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return error_response(404, not_found_sentence(request.path))
    return _page(
        request,
        status=404,
        title="Page not found",
        sentence=(
            f"There is no page at {request.path}: the address may be mistyped, or what it "
            "showed no longer exists."
        ),
    )


# Seconds a client should wait before trying again while the database does not answer; Django
# reconnects on the next request (CONN_HEALTH_CHECKS), so recovery needs nothing else.
RETRY_AFTER = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """500 with a reference that the one logged traceback carries too; 503 while the database
    does not answer (an OperationalError or InterfaceError: down, restarting, locked)."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(request, exc)
    reference = uuid.uuid4().hex[:8]
    sentence = (
        f"Something went wrong on our side and it was logged (reference {reference}). "
        "Try again in a moment; if it keeps happening, give an admin that reference."
    )
    response: HttpResponse
    if is_api(request):
        response = error_response(500, sentence)
    else:
        response = _page_or_bare(request, sentence=sentence, reference=reference)
    log_response(
        "Internal Server Error: %s %s (reference %s)",
        request.method,
        request.path,
        reference,
        response=response,
        request=request,
        exception=sys.exc_info()[1],
    )
    return response


def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """503 with Retry-After: nothing was done, and the same request will work once the database
    answers again. One log line, no traceback: the cause is outside this code."""
    sentence = (
        "The database is not answering right now, so nothing was read or changed. "
        "Try again in a few seconds; it recovers by itself when the database is back."
    )
    response: HttpResponse
    if is_api(request):
        response = error_response(503, sentence, "unavailable")
    else:
        try:
            response = _page(
                request,
                status=503,
                title="Database unavailable",
                sentence=sentence,
                with_request=False,
            )
        except Exception:
            response = HttpResponse(sentence, status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER)
    logger.warning(
        "Database unavailable: %s %s answered 503 (%s)",
        request.method,
        request.path,
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
    )
    return response


def _page_or_bare(request: HttpRequest, *, sentence: str, reference: str) -> HttpResponse:
    try:
        # No request context: the database may be what failed, and the nav would query it.
        response = _page(
            request, status=500, title="Server error", sentence=sentence, with_request=False
        )
    except Exception:
        logger.exception("The 500 page could not be rendered (reference %s)", reference)
        response = HttpResponse(_BARE_500.format(reference=reference), status=500)
    return response
