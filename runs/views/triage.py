"""The Operator's triage form, on every page that shows a failure signature."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from runs.models import FailureSignature, Triage
from runs.services.triage import MAX_COMMENT, TriageError, signature_triage_set
from runs.views.paging import bad_request


class TriageForm(forms.Form):
    category = forms.ChoiceField(choices=Triage.choices)
    analysis = forms.IntegerField(required=False, min_value=1)
    comment = forms.CharField(required=False, max_length=MAX_COMMENT)


def _back(request: HttpRequest, signature: FailureSignature) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    run = signature.results.order_by("-run_id").values_list("run_id", flat=True).first()
    return reverse("run-detail", args=[run]) if run else signature.suite.get_absolute_url()


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def signature_triage(request: HttpRequest, pk: int) -> HttpResponse:
    signature = get_object_or_404(FailureSignature.objects.select_related("suite__service"), pk=pk)
    form = TriageForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
        )
        return bad_request(request, f"The triage was not saved: {problems}")
    category = form.cleaned_data["category"]
    # The form always sends its analysis list; it only counts for a known issue.
    analysis = form.cleaned_data["analysis"] if category == Triage.KNOWN_ISSUE else None
    try:
        signature_triage_set(
            signature=signature,
            triage=category,
            analysis_id=analysis,
            comment=form.cleaned_data["comment"],
            user=request.user,
        )
    except TriageError as exc:
        return bad_request(request, f"The triage was not saved: {exc}")
    messages.success(request, f"The signature is marked {Triage(category).label.lower()}.")
    return redirect(_back(request, signature))
