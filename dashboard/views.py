"""The overview page and the worker status partial it polls."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.cards import LATENCY_RANGE, cards_decorate
from dashboard.selectors import worker_status
from runs.selectors.outbox import outbox_backlog
from runs.selectors.overview import TREND_DAYS, TREND_RUNS, service_cards
from runs.selectors.rates import RATE_DEFINITION


def overview(request: HttpRequest) -> HttpResponse:
    cards = service_cards()
    cards_decorate(cards)
    return render(
        request,
        "dashboard/overview.html",
        {
            "cards": cards,
            "worker": worker_status(),
            "outbox": outbox_backlog(),
            "trend_days": TREND_DAYS,
            "trend_runs": TREND_RUNS,
            "flaky_window": settings.FLAKY_WINDOW,
            "rate_definition": RATE_DEFINITION,
            "latency_range": LATENCY_RANGE,
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
