"""Deploy and test: the button, the deploy page and its live progress partial."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from runs.models import Deploy, Service
from runs.services.deploys import DeployInProgress, deploy_and_test_create


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def deploy_and_test(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service, name=name)
    build_id = request.POST.get("build", "")
    build = service.builds.filter(pk=int(build_id)).first() if build_id.isdigit() else None
    if build_id and build is None:
        messages.error(request, f"Service {service.name} has no build {build_id!r}.")
        return redirect(service)
    try:
        deploy, _run = deploy_and_test_create(
            service=service,
            build=build,
            user=request.user,
            release_policy=request.POST.get("release_policy", ""),
        )
    except ValueError as exc:  # an unknown release policy, or nothing to deploy
        messages.error(request, str(exc))
        return redirect(service)
    except DeployInProgress as exc:
        messages.error(request, str(exc))
        return redirect(exc.active.get_absolute_url() if exc.active else service)
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
