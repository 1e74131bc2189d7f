"""Login for every page, except the API, which authenticates each request itself; and the one
place bad input becomes a 400: NUL characters in any text input (PostgreSQL cannot store
them) and query parameters a view refused (runs.params.BadParam)."""

from __future__ import annotations

import re

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, QueryDict

from dashboard.errors import bad_input
from runs.params import BadParam

# \u0000 in a JSON string, unless its backslash is itself escaped (\\u0000 is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class PagesLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None  # token or session auth, answered with 401/403 JSON, never a redirect
        return super().process_view(request, view_func, view_args, view_kwargs)


class BadInputMiddleware:
    """A NUL character in a query parameter, a form field or a JSON body is a 400 naming it,
    and so is a BadParam a view raises (a page number that is not one, a date out of range).

    NULs are looked for as a view is about to be called (after login and CSRF). Form fields
    are read from request.POST, which Django parses once for the view too; uploaded files are
    not scanned (the report importer reads NUL as U+FFFD). JSON is scanned as raw bytes, not
    parsed.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        found = _nul_in(request.GET, "query parameter")
        if found is None and request.method == "POST" and request.content_type in _FORMS:
            found = _nul_in(request.POST, "form field")
        if found is None and request.content_type.endswith("json"):
            body = request.body
            if b"\x00" in body or _JSON_NUL.search(body):
                found = ("JSON body", "")
        if found is None:
            return None
        where, field = found
        return bad_input(
            request,
            f"The {where} contains a NUL character, which no text may hold: "
            "remove it and try again.",
            field=field,
        )

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadParam):
            return bad_input(request, str(exception), field=exception.name)
        return None


def _nul_in(params: QueryDict, kind: str) -> tuple[str, str] | None:
    """Where the first NUL in ``params`` is, as (description, field name), or None."""
    for name, values in params.lists():
        if "\x00" in name:
            return f"{kind} name {name!r}", ""
        if any("\x00" in value for value in values):
            return f"{kind} {name!r}", name
    return None
