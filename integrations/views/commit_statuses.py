"""The commit statuses page: what was posted to GitHub and GitLab and how it went, newest first,
one service's or all; a failed status can be posted again. Managers (manage_integrations), as
the webhooks pages whose delivery logs it mirrors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations.models import CommitStatus
from integrations.selectors.commit_statuses import commit_statuses_page, services_with_statuses
from integrations.services.commit_statuses import RepostRefused, commit_status_repost, hosts
from runs.params import choice_param, int_param
from runs.views.paging import query_without

MANAGE = "integrations.manage_integrations"


@permission_required(MANAGE, raise_exception=True)
def commit_status_list(request: HttpRequest) -> HttpResponse:
    service_id = int_param(request.GET, "service", what="a service id")
    status = choice_param(request.GET, "status", CommitStatus.Status.values)
    page = commit_statuses_page(
        service_id=service_id, status=status, after=request.GET.get("after", "")
    )
    context = {
        "statuses": page.rows,
        "log": page,
        "log_query": query_without(request, "after"),
        "log_anchor": "commit-statuses",
        "log_label": "Commit statuses",
        "services": services_with_statuses(),
        "service_id": service_id,
        "status": status,
        "status_choices": CommitStatus.Status.choices,
        "hosts_configured": sorted(host.title() for host in hosts()),
    }
    return render(request, "integrations/commit_status_list.html", context)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def commit_status_repost_view(request: HttpRequest, pk: int) -> HttpResponse:
    status = get_object_or_404(CommitStatus, pk=pk)
    try:
        commit_status_repost(status=status)
    except RepostRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Posting again: the new attempt shows at the top of the list.")
    return redirect(f"{reverse('commit-status-list')}?service={status.service_id}")
