"""The health page of a service."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from health import charts
from health.models import DEFAULT_LOCATION
from health.ranges import health_range
from health.selectors import (
    HEALTH_RULE,
    deploy_markers,
    latency_error_note,
    latency_series,
    service_health_states,
    service_incidents,
    service_locations,
    service_uptime,
    uptime_by_day,
)
from runs.models import Service
from runs.time_range import request_time_range


def service_health(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("current_revision"), name=name)
    app_range = request_time_range(request)
    time_range = health_range(app_range)
    start, end = app_range.start, app_range.end
    days = uptime_by_day(service_id=service.pk, now=end, days=max(30, time_range.span.days))
    probes = list(service.probes.all())
    locations = service_locations(service_id=service.pk, probes=probes, now=timezone.now())
    series = latency_series(service_id=service.pk, time_range=time_range, end=end)
    deploys = deploy_markers(service_id=service.pk, start=start, end=end)
    return render(
        request,
        "health/service_health.html",
        {
            "service": service,
            "range": app_range,
            "time_range_short": True,
            "state": service_health_states([service.pk])[service.pk],
            "rule": HEALTH_RULE,
            # The tiles are the service's state now, whatever range the page shows.
            "uptime": service_uptime(service_id=service.pk, now=timezone.now()),
            "days": days,
            "incidents": service_incidents(service_id=service.pk, start=start, end=end),
            "probes": probes,
            "locations": locations,
            # One location everywhere (a single worker) has nothing to compare: no section.
            "several_locations": any(row.location != DEFAULT_LOCATION for row in locations),
            "has_latency": bool(series),
            "latency_error": latency_error_note(series),
            "latency_json": charts.figure_json(
                charts.latency_figure(series, deploys, start=start, end=end)
            ),
            "uptime_json": charts.figure_json(charts.uptime_figure(days)),
            "now": timezone.now(),
        },
    )
