"""The Operator's release actions: promote a revision (an override needs a reason), and roll a
release in progress back at once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from runs.models import Deploy, Revision
from runs.services.deploys import DeployInProgress
from runs.services.promote import CannotPromote, promote_create
from runs.services.release import release_abort_request


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def revision_promote(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision.objects.select_related("service"), pk=pk)
    try:
        deploy = promote_create(
            service=revision.service,
            revision=revision,
            reason=request.POST.get("reason", "")[:1000],
            user=request.user,
        )
    except DeployInProgress as exc:
        messages.error(request, str(exc))
        return redirect(exc.active.get_absolute_url() if exc.active else revision)
    except CannotPromote as exc:
        messages.error(request, str(exc))
        return redirect(revision)
    return redirect(deploy)


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def deploy_abort(request: HttpRequest, pk: int) -> HttpResponse:
    deploy = get_object_or_404(Deploy, pk=pk)
    reason = request.POST.get("reason", "").strip()[:1000]
    if release_abort_request(deploy=deploy, who=request.user.get_username(), reason=reason):
        messages.success(request, "Rolling back: traffic goes back to the stable revision.")
    else:
        messages.error(request, f"Deploy #{deploy.pk} has no release in progress to roll back.")
    return redirect(deploy)
