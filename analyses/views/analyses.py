"""Five-whys analyses: start one, read it, edit it as a whole, list analyses and action items."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from analyses.models import Analysis, is_site_path
from analyses.selectors import analyses as selectors
from analyses.selectors import owners
from analyses.services import analyses as services
from analyses.services.edit import analysis_save
from analyses.views.forms import (
    ActionItemFormSet,
    AnalysisForm,
    WhyFormSet,
    items_from_formset,
    whys_from_formset,
)
from runs.models import FailureSignature, Service, TestResult, TestRun
from runs.params import choice_param, int_param
from runs.selectors.triage import HISTORY_SHOWN, triage_history
from runs.time_range import request_time_range
from runs.views.paging import paginate

WRITE = "analyses.write_analysis"


def _started(request: HttpRequest, start) -> HttpResponse:
    """Run a start service; go to the new analysis, the existing one, or back with a sentence."""
    try:
        analysis = start()
    except services.AnalysisExists as exc:
        messages.info(request, str(exc))
        return redirect(exc.analysis)
    except services.NothingToAnalyze as exc:
        messages.error(request, str(exc))
        back = request.POST.get("next", "")
        return redirect(back if is_site_path(back) else "analysis-list")
    messages.success(request, f"Analysis #{analysis.pk} started: explain the failure below.")
    return redirect("analysis-edit", analysis.pk)


@require_POST
@permission_required(WRITE, raise_exception=True)
def analyze_result(request: HttpRequest, pk: int) -> HttpResponse:
    result = get_object_or_404(
        TestResult.objects.select_related("case", "signature", "run__suite", "run__revision"), pk=pk
    )
    return _started(
        request, lambda: services.analysis_start_from_result(result=result, user=request.user)
    )


@require_POST
@permission_required(WRITE, raise_exception=True)
def analyze_signature(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(FailureSignature, pk=pk)
    return _started(
        request,
        lambda: services.analysis_start_from_signature(signature=signature, user=request.user),
    )


@require_POST
@permission_required(WRITE, raise_exception=True)
def analyze_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TestRun.objects.select_related("suite", "service", "revision"), pk=pk)
    return _started(request, lambda: services.analysis_start_from_run(run=run, user=request.user))


def _get_analysis(pk: int) -> Analysis:
    try:
        return selectors.analysis_detail(pk=pk)
    except Analysis.DoesNotExist:
        raise Http404("No such analysis.") from None


def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = _get_analysis(pk)
    case_owners = owners.analysis_case_owners(analysis=analysis)
    context = {
        "analysis": analysis,
        "case_owners": case_owners,
        "test_owners": owners.distinct_owners(case_owners.values()),
        "triage_history": (
            triage_history(signature_id=analysis.signature_id, limit=HISTORY_SHOWN)
            if analysis.signature_id
            else []
        ),
        "link_choices": (
            selectors.analyses_to_link(service_id=analysis.service_id)
            if request.user.has_perm("runs.trigger_deploy") and analysis.signature_id
            else []
        ),
        "known_issue_of": list(analysis.known_issue_signatures.select_related("suite")[:50]),
    }
    return render(request, "analyses/analysis_detail.html", context)


def _edit_forms(request: HttpRequest, analysis: Analysis):
    data = request.POST if request.method == "POST" else None
    initial_whys = [
        {"question": w.question, "answer": w.answer, "evidence": w.evidence, "ORDER": w.position}
        for w in analysis.whys.all()
    ]
    return (
        # Validating a model form writes into its instance: give it a copy, so that the page keeps
        # showing the saved analysis (its status in the heading) until a save succeeds.
        AnalysisForm(data, instance=copy.copy(analysis), prefix="analysis"),
        WhyFormSet(data, initial=initial_whys, prefix="whys"),
        ActionItemFormSet(data, instance=analysis, prefix="items"),
    )


@permission_required(WRITE, raise_exception=True)
def analysis_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One page, saved as a whole: a bad field anywhere saves nothing and shows every error."""
    analysis = _get_analysis(pk)
    form, whys, items = _edit_forms(request, analysis)
    errors: list[str] = []
    if request.method == "POST" and all(f.is_valid() for f in (form, whys, items)):
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            changes = analysis_save(
                analysis=analysis,
                fields=fields,
                whys=whys_from_formset(whys),
                items=items_from_formset(items),
                user=request.user,
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, "Saved." if changes else "Nothing changed.")
            return redirect("analysis-detail", pk)
    context = {"analysis": analysis, "form": form, "whys": whys, "items": items, "errors": errors}
    status = 400 if request.method == "POST" else 200
    return render(request, "analyses/analysis_edit.html", context, status=status)


def analysis_list(request: HttpRequest) -> HttpResponse:
    status = choice_param(request.GET, "status", Analysis.Status.values)
    service_id = int_param(request.GET, "service", what="a service id")
    mine = request.GET.get("mine") == "1"
    only = owners.analyses_owned_by(user=request.user) if mine else None
    span = request_time_range(request)
    page = paginate(
        request,
        selectors.analysis_list(status=status, service_id=service_id, only=only, span=span),
        per_page=50,
    )
    page.object_list = owners.with_test_owners(list(page.object_list))
    counts = selectors.analysis_status_counts(service_id=service_id, only=only, span=span)
    return render(
        request,
        "analyses/analysis_list.html",
        {
            "page": page,
            "status_counts": [
                (value, label, counts[value]) for value, label in Analysis.Status.choices
            ],
            "statuses": Analysis.Status.choices,
            "status": status,
            "service_id": service_id,
            "mine": mine,
            "services": Service.objects.order_by("name"),
            "waiting": selectors.failing_runs_without_analysis(span=span),
        },
    )


def action_item_list(request: HttpRequest) -> HttpResponse:
    owner_id = int_param(request.GET, "owner", what="a user id")
    mine = request.GET.get("mine") == "1"
    only = owners.analyses_owned_by(user=request.user) if mine else None
    page = paginate(
        request,
        selectors.open_action_items(owner_id=owner_id, only=only, span=request_time_range(request)),
        per_page=100,
    )
    page.object_list = owners.items_with_test_owners(list(page.object_list))
    return render(
        request,
        "analyses/analysis_action_items.html",
        {
            "page": page,
            "owner_id": owner_id,
            "mine": mine,
            "owners": get_user_model().objects.filter(action_items__isnull=False).distinct(),
        },
    )
