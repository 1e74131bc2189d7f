"""The Operator's form on the test page: quarantine, disable (with a reason) or make active."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from runs.models import State, TestCase
from runs.services.states import TestStateError, test_state_set


class TestStateForm(forms.Form):
    __test__ = False

    state = forms.ChoiceField(choices=State.choices)
    reason = forms.CharField(required=False, max_length=2000)
    # From <input type="datetime-local">: the server's time zone.
    expires_at = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M"])


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def test_state_change(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(TestCase, pk=pk)
    form = TestStateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The change was not made: {form.errors.as_text()}")
        return redirect(case)
    try:
        test_state_set(
            case=case,
            state=form.cleaned_data["state"],
            reason=form.cleaned_data["reason"],
            user=request.user,
            expires_at=form.cleaned_data["expires_at"],
        )
    except TestStateError as exc:
        messages.error(request, f"The change was not made: {exc}")
        return redirect(case)
    messages.success(request, f"{case.name} is {form.cleaned_data['state']} now.")
    return redirect(case)
