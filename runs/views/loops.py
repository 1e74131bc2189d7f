"""Loops (deploy and test until green), builds, and cancelling a run."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from runs.models import Loop, Service, Suite, TestRun
from runs.selectors.loops import loop_pending_build, loop_with_iterations
from runs.services.builds import build_register
from runs.services.deploys import DeployInProgress, NothingToDeploy
from runs.services.loops import LoopInProgress, loop_cancel, loop_start
from runs.services.suite_step import run_cancel


class LoopForm(forms.Form):
    suite: forms.ModelChoiceField[Suite] = forms.ModelChoiceField(queryset=None)
    goal = forms.ChoiceField(choices=Loop.Goal.choices)
    goal_pass_rate = forms.FloatField(min_value=0.1, max_value=100, initial=100)
    max_iterations = forms.IntegerField(min_value=1, max_value=100, initial=5)

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["suite"]).queryset = service.suites.all()


class BuildForm(forms.Form):
    image = forms.CharField(max_length=300)
    commit_sha = forms.CharField(max_length=64, required=False)
    message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _form_errors(form: forms.Form) -> str:
    return " ".join(
        f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
    )


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def loop_create(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    form = LoopForm(request.POST, service=service)
    if not form.is_valid():
        messages.error(request, f"The loop was not started: {_form_errors(form)}")
        return redirect(service)
    try:
        loop = loop_start(service=service, user=request.user, **form.cleaned_data)
    except (LoopInProgress, DeployInProgress) as exc:
        messages.error(request, str(exc))
        return redirect(exc.active or service)
    except (NothingToDeploy, ValueError) as exc:
        messages.error(request, str(exc))
        return redirect(service)
    return redirect(loop)


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def loop_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    loop = get_object_or_404(Loop, pk=pk)
    if loop_cancel(loop=loop):
        messages.success(request, "Loop cancelled; its running tests are being stopped.")
    else:
        messages.info(request, "This loop had already ended.")
    return redirect(loop)


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def build_create(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    form = BuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"The build was not registered: {_form_errors(form)}")
        return redirect(service)
    registered = build_register(
        service=service,
        image=form.cleaned_data["image"],
        commit_sha=form.cleaned_data["commit_sha"],
        message=form.cleaned_data["message"],
        user=request.user,
    )
    image = registered.build.image
    if registered.loops_waiting:
        loop, deploy = registered.loops_waiting[0], registered.blocking_deploy
        busy = f"Deploy #{deploy.pk} of {service.name}" if deploy else "Another deploy"
        messages.warning(
            request,
            f"Build {image} is registered. {busy} is in progress; loop #{loop.pk} deploys "
            "this build once it has ended.",
        )
        return redirect(loop)
    loops = registered.loops_resumed
    note = f" Loop #{loops[0].pk} deploys it now." if loops else ""
    messages.success(request, f"Build {image} registered.{note}")
    return redirect(loops[0] if loops else service)


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def run_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TestRun, pk=pk)
    if run_cancel(run=run):
        messages.success(request, f"Run #{run.pk} cancelled; its processes are being stopped.")
    else:
        messages.info(request, f"Run #{run.pk} had already finished.")
    return redirect(run.deploy or run)


def _loop_context(pk: int) -> dict:
    try:
        loop, iterations = loop_with_iterations(pk=pk)
    except Loop.DoesNotExist:
        raise Http404("No such loop.") from None
    context: dict = {"loop": loop, "iterations": iterations}
    if loop.status == Loop.Status.WAITING:
        context["pending_build"], context["blocking_deploy"] = loop_pending_build(
            loop=loop, iterations=iterations
        )
    return context


def loop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "runs/loop_detail.html", _loop_context(pk))


def loop_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "runs/_loop_progress.html", _loop_context(pk))
