"""The app-wide time range on every page: read from the URL, remembered in the session, and
put in each template's context as ``time_range``.

The URL is the source of truth and what a user shares. A page opened without a range, by a
user who chose one earlier in this session, is redirected to the same URL with that range
added, so the URL always shows what the page shows.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from dashboard.errors import bad_input
from runs.time_range import (
    HEALTH_PRESETS,
    PARAMS,
    PICKER_PRESETS,
    PRESETS,
    BadTimeRange,
    TimeRange,
    has_time_range,
    time_range_parse,
)

SESSION_KEY = "time_range"
_UNRANGED = (
    "/api/",
    "/admin/",
    "/login/",
    "/logout/",
    "/healthz",
    "/worker-status",
    "/static/",
    "/status/",
)


class TimeRangeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.path_info.startswith(_UNRANGED):
            return None
        remembered = _remembered(request)
        if not has_time_range(request.GET) and remembered and _redirectable(request):
            query = request.GET.copy()
            return HttpResponseRedirect(f"{request.path}?{_join(query.urlencode(), remembered)}")
        try:
            time_range = time_range_parse(request.GET, now=timezone.now())
        except BadTimeRange as exc:
            return bad_input(request, str(exc), field=exc.name)
        request.time_range = time_range
        if time_range.explicit and remembered != time_range.query and _remembers(request):
            request.session[SESSION_KEY] = time_range.query
        return None


def time_range_context(request: HttpRequest) -> dict:
    """``time_range`` (the request's range) and the header picker's links: this page's URL
    with each preset and its other parameters, except the page number and a summary's start
    and end. 1 h and 6 h are shown only where a view sets
    ``time_range_short`` (the health page)."""
    found: TimeRange | None = getattr(request, "time_range", None)
    if found is None:
        return {}
    kept = request.GET.copy()
    # A new range starts lists on their first page and replaces a summary's own days.
    for name in (*PARAMS, "page", "start", "end"):
        kept.pop(name, None)
    base = kept.urlencode()
    return {
        "time_range": found,
        "time_range_choices": [
            {
                "key": key,
                "label": PRESETS[key][0],
                "href": "?" + _join(base, f"range={key}"),
                "short": key not in PICKER_PRESETS,
            }
            for key in HEALTH_PRESETS
        ],
        "time_range_kept": [(name, value) for name, values in kept.lists() for value in values],
    }


def _remembers(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and hasattr(request, "session"))


def _remembered(request: HttpRequest) -> str:
    return request.session.get(SESSION_KEY, "") if _remembers(request) else ""


def _redirectable(request: HttpRequest) -> bool:
    """A page a person navigated to: a GET for HTML, not an htmx partial."""
    return (
        request.method == "GET"
        and not request.headers.get("HX-Request")
        and "text/html" in request.headers.get("Accept", "")
    )


def _join(query: str, extra: str) -> str:
    return f"{query}&{extra}" if query else extra
