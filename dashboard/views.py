"""The overview page and the worker status partial it polls."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.cards import cards_decorate
from dashboard.selectors import worker_status
from runs.selectors.outbox import outbox_backlog
from runs.selectors.overview import TREND_RUNS, service_cards
from runs.selectors.rates import RATE_DEFINITION
from runs.time_range import request_time_range


def overview(request: HttpRequest) -> HttpResponse:
    time_range = request_time_range(request)
    cards = service_cards(start=time_range.start, end=time_range.end)
    cards_decorate(cards, app_range=time_range)
    return render(
        request,
        "dashboard/overview.html",
        {
            "cards": cards,
            "worker": worker_status(),
            "outbox": outbox_backlog(),
            "trend_runs": TREND_RUNS,
            "flaky_window": settings.FLAKY_WINDOW,
            "rate_definition": RATE_DEFINITION,
        },
    )


def worker_status_partial(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/_worker_status.html",
        {"worker": worker_status(), "outbox": outbox_backlog()},
    )


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and compose health checks; needs no login."""
    return HttpResponse("ok", content_type="text/plain")
