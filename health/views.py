"""The health page of a service."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from health import charts
from health.forms import MaintenanceWindowForm
from health.models import DEFAULT_LOCATION, MaintenanceWindow
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
from health.selectors.maintenance import (
    UPCOMING,
    maintenance_now,
    maintenance_occurrences,
    service_maintenance_windows,
)
from health.selectors.slos import service_slo_alerts, slo_statuses
from health.services.maintenance import (
    maintenance_window_create,
    maintenance_window_delete,
    maintenance_window_update,
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
    slos = slo_statuses([service.pk])[service.pk]
    now = timezone.now()
    # The uptime chart's days may reach further back than the range (30 days at least).
    days_start = timezone.make_aware(datetime.combine(days[0].day, datetime.min.time()))
    # One read serves both charts' bands and the current and upcoming windows.
    found = maintenance_occurrences(
        service_ids=[service.pk],
        start=min(start, days_start, now),
        end=max(end, now + UPCOMING),
    ).get(service.pk, [])
    windows = [o for o in found if o.start < end and o.end > start]
    latency = charts.latency_figure(series, deploys, start=start, end=end)
    charts.add_maintenance_bands(latency, windows)
    uptime_chart = charts.uptime_figure(days)
    charts.add_maintenance_day_bands(
        uptime_chart, [o for o in found if o.start < end and o.end > days_start]
    )
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
            "slos": slos,
            # an alert belongs to an SLO: without SLOs there is nothing to look for
            "alerts": service_slo_alerts(service_id=service.pk, start=start, end=end)
            if slos
            else [],
            "probes": probes,
            "locations": locations,
            # One location everywhere (a single worker) has nothing to compare: no section.
            "several_locations": any(row.location != DEFAULT_LOCATION for row in locations),
            "has_latency": bool(series),
            "latency_error": latency_error_note(series),
            "latency_json": charts.figure_json(latency),
            "uptime_json": charts.figure_json(uptime_chart),
            "maintenance": maintenance_now(found=found, now=now),
            "maintenance_in_range": len(windows),
            "now": timezone.now(),
        },
    )


MANAGE = "health.manage_maintenance"
_PERMISSION = permission_required(MANAGE, raise_exception=True)


def maintenance_list(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    form = MaintenanceWindowForm(initial={"kind": MaintenanceWindow.Kind.ONCE})
    return _render_list(request, service, form)


def _render_list(request: HttpRequest, service: Service, form, status: int = 200) -> HttpResponse:
    return render(
        request,
        "health/maintenance.html",
        {
            "service": service,
            "windows": service_maintenance_windows(service_id=service.pk),
            "form": form,
            "can_manage": request.user.has_perm(MANAGE),
            "zone": timezone.get_current_timezone_name(),
        },
        status=status,
    )


def _save(form: MaintenanceWindowForm, save) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        save(
            kind=data["kind"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            weekdays=data["weekdays"],
            local_start=data["local_start"],
            duration_minutes=data["duration_minutes"],
            reason=data["reason"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return False
    return True


@require_POST
@_PERMISSION
def maintenance_create(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    form = MaintenanceWindowForm(request.POST)
    if not _save(form, lambda **kw: maintenance_window_create(service_id=service.pk, **kw)):
        return _render_list(request, service, form, status=400)
    messages.success(request, "Maintenance window saved.")
    return redirect("maintenance-list", name=service.name)


@_PERMISSION
def maintenance_edit(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    window = get_object_or_404(MaintenanceWindow, pk=pk, service__name=name)
    if request.method == "POST":
        form = MaintenanceWindowForm(request.POST)
        if _save(form, lambda **kw: maintenance_window_update(window=window, **kw)):
            messages.success(request, "Maintenance window saved.")
            return redirect("maintenance-list", name=name)
        status = 400
    else:
        form = MaintenanceWindowForm.for_window(window)
        status = 200
    return render(
        request,
        "health/maintenance_edit.html",
        {"service": window.service, "window": window, "form": form},
        status=status,
    )


@require_POST
@_PERMISSION
def maintenance_delete(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    window = get_object_or_404(MaintenanceWindow, pk=pk, service__name=name)
    maintenance_window_delete(window=window)
    messages.success(request, "Maintenance window deleted.")
    return redirect("maintenance-list", name=name)
