"""The suite page's retention form (Manager) and the run page's pin button (Operator, Manager)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from runs.models import Suite, TestRun
from runs.selectors.retention import policy_for
from runs.services.retention import RetentionError, retention_policy_set, run_pin_set


@require_POST
@permission_required("runs.manage_retention", raise_exception=True)
def suite_retention(request: HttpRequest, pk: int) -> HttpResponse:
    suite = get_object_or_404(Suite, pk=pk)
    try:
        retention_policy_set(
            suite_id=suite.pk,
            keep_days=request.POST.get("keep_days", ""),
            keep_runs=request.POST.get("keep_runs", ""),
            user=request.user,
        )
    except RetentionError as exc:
        messages.error(request, f"The retention policy was not changed: {exc}")
        return redirect(suite)
    messages.success(request, policy_for(suite_id=suite.pk).describe())
    return redirect(suite)


@require_POST
@permission_required("runs.pin_run", raise_exception=True)
def run_pin(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TestRun, pk=pk)
    pinned = request.POST.get("pinned", "1") != "0"
    run_pin_set(run=run, pinned=pinned, user=request.user)
    messages.success(
        request,
        f"Run #{run.pk} is pinned: retention keeps it."
        if pinned
        else f"Run #{run.pk} is unpinned: its suite's retention policy applies to it again.",
    )
    return redirect(run)
