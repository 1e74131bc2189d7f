"""The SLO page of a service: each SLO's SLI, error budget and burn-down, its alerts; and the
create / edit / delete forms (permission ``health.manage_slos``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from health import charts
from health.forms import SloForm
from health.models import Slo
from health.selectors.slos import burn_down, service_slo_alerts, slo_statuses, window_of
from health.services.slos import SloInvalid, slo_create, slo_delete, slo_update
from runs.models import Service
from runs.time_range import request_time_range

MANAGE = "health.manage_slos"


def _fields(form: SloForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "kind": data["kind"],
        "objective_percent": data["objective_percent"],
        "latency_threshold_ms": data.get("latency_threshold_ms"),
        "window_days": data["window_days"],
    }


def service_slos(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    can_manage = request.user.has_perm(MANAGE)
    form = SloForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Creating SLOs needs the health.manage_slos permission.")
        if form.is_valid():
            try:
                slo = slo_create(service=service, **_fields(form))
            except SloInvalid as exc:
                form.add_error(exc.field, str(exc))
            else:
                messages.success(request, f"SLO {slo.name} created.")
                return redirect("service-slos", service.name)
    now = timezone.now()
    app_range = request_time_range(request)
    statuses = slo_statuses([service.pk], now=now)[service.pk]
    rows = []
    for status in statuses:
        start, end = window_of(status.slo, now)
        points = burn_down(status.slo, now=now)
        figure = charts.burn_down_figure(points, start=start, end=end, name=status.slo.name)
        rows.append(
            {"status": status, "has_data": bool(points), "chart": charts.figure_json(figure)}
        )
    return render(
        request,
        "health/service_slos.html",
        {
            "service": service,
            "range": app_range,
            "rows": rows,
            "alerts": service_slo_alerts(
                service_id=service.pk, start=app_range.start, end=app_range.end
            ),
            "form": form,
            "can_manage": can_manage,
            "now": now,
        },
    )


@permission_required(MANAGE, raise_exception=True)
def slo_edit(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    slo = get_object_or_404(Slo.objects.select_related("service"), pk=pk, service__name=name)
    form = SloForm(request.POST) if request.method == "POST" else SloForm.of(slo)
    if request.method == "POST" and form.is_valid():
        try:
            slo_update(slo=slo, **_fields(form))
        except SloInvalid as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"SLO {slo.name} saved.")
            return redirect("service-slos", slo.service.name)
    return render(
        request, "health/slo_edit.html", {"slo": slo, "service": slo.service, "form": form}
    )


@require_POST
@permission_required(MANAGE, raise_exception=True)
def slo_remove(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    slo = get_object_or_404(Slo, pk=pk, service__name=name)
    slo_delete(slo=slo)
    messages.success(request, f"SLO {slo.name} deleted.")
    return redirect("service-slos", name)
