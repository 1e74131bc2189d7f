"""The suite page's schedule form: Operators and admins (``runs.trigger_deploy``, as the API's
`schedule` action in runs.roles); Viewers and Managers see the schedule but not the form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from runs.models import Suite
from runs.services.schedules import ScheduleError, suite_schedule_set


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def suite_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    suite = get_object_or_404(Suite, pk=pk)
    try:
        suite = suite_schedule_set(
            suite_id=suite.pk,
            every_minutes=request.POST.get("every_minutes", ""),
            enabled=request.POST.get("enabled") == "on",
            user=request.user,
        )
    except ScheduleError as exc:
        messages.error(request, f"The schedule was not changed: {exc}")
        return redirect(suite)
    if suite.schedule_enabled and suite.schedule_next_at is not None:
        at = timezone.localtime(suite.schedule_next_at)
        messages.success(
            request,
            f"Scheduled every {suite.schedule_minutes} minutes against the current revision; "
            f"the next run is due at {at:%H:%M}.",
        )
    else:
        messages.success(request, "The schedule is paused: no scheduled runs start.")
    return redirect(suite)
