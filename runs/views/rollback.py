"""The Operator's "Roll back to this revision" button on the revision page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from runs.models import Revision
from runs.services.deploys import DeployInProgress
from runs.services.rollback import CannotRollBack, rollback_create


@require_POST
@permission_required("runs.trigger_deploy", raise_exception=True)
def revision_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision.objects.select_related("service"), pk=pk)
    service = revision.service
    try:
        deploy = rollback_create(service=service, to_revision=revision, user=request.user)
    except DeployInProgress as exc:
        messages.error(request, str(exc))
        return redirect(exc.active.get_absolute_url() if exc.active else revision)
    except CannotRollBack as exc:
        messages.error(request, str(exc))
        return redirect(revision)
    return redirect(deploy)
