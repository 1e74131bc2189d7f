"""Deploy and test: the button, the deploy page and its live progress partial."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from runs.models import Deploy, Service
from runs.services.deploys import DeployInProgress, NothingToDeploy, deploy_and_test_create


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def deploy_and_test(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    try:
        deploy, _run = deploy_and_test_create(service=service, user=request.user)
    except DeployInProgress as exc:
        messages.error(request, str(exc))
        return redirect(exc.active.get_absolute_url() if exc.active else service)
    except NothingToDeploy as exc:
        messages.error(request, str(exc))
        return redirect(service)
    return redirect(deploy)


def _deploy_context(pk: int) -> dict:
    deploy = get_object_or_404(
        Deploy.objects.select_related(
            "service", "revision", "previous_revision", "requested_by", "build"
        ),
        pk=pk,
    )
    return {"deploy": deploy, "runs": list(deploy.runs.select_related("suite"))}


def deploy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "runs/deploy_detail.html", _deploy_context(pk))


def deploy_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "runs/_deploy_progress.html", _deploy_context(pk))
