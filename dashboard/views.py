"""The overview page and the worker status partial it polls."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.selectors import worker_status
from runs.selectors.overview import service_cards


def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/overview.html",
        {"cards": service_cards(), "worker": worker_status()},
    )


def worker_status_partial(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/_worker_status.html", {"worker": worker_status()})


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and compose health checks; needs no login."""
    return HttpResponse("ok", content_type="text/plain")
