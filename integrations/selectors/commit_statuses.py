"""Reads for the commit statuses page."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Replace

from integrations.models import CommitStatus
from integrations.selectors.paging import PER_PAGE, LogPage, log_page
from runs.models import Service

MASK = "****"
REPOSTABLE = (CommitStatus.Status.FAILED, CommitStatus.Status.GIVEN_UP)


def _masked(field: str) -> F | Replace:
    """``field`` with the configured tokens replaced, in SQL: a host's answer may echo a token
    (the sender masks it when recording; this holds for rows from before, or a token since
    changed back)."""
    expression: F | Replace = F(field)
    for token in (settings.GITHUB_TOKEN, settings.GITLAB_TOKEN):
        if token:
            expression = Replace(expression, Value(token), Value(MASK))
    return expression


def commit_statuses_page(
    *, service_id: int | None = None, status: str = "", after: str = "", per_page: int = PER_PAGE
) -> LogPage:
    """A page of commit statuses, newest first (one service's, one delivery status's), each with
    ``error_shown``/``excerpt_shown`` (tokens masked) and ``superseded_since`` (a newer status of
    its commit and context exists: posting it again would go back in time). One query."""
    rows = (
        CommitStatus.objects.select_related("service", "run")
        .defer("error", "response_excerpt")
        .annotate(
            error_shown=_masked("error"),
            excerpt_shown=_masked("response_excerpt"),
            superseded_since=Exists(
                CommitStatus.objects.filter(
                    host=OuterRef("host"),
                    repository=OuterRef("repository"),
                    sha=OuterRef("sha"),
                    context=OuterRef("context"),
                    pk__gt=OuterRef("pk"),
                )
            ),
        )
    )
    if service_id is not None:
        rows = rows.filter(service_id=service_id)
    if status:
        rows = rows.filter(status=status)
    return log_page(rows, after=after, per_page=per_page)


def services_with_statuses() -> QuerySet[Service]:
    """The services the page's filter offers: those set up for a code host, and those that
    posted statuses before their settings changed."""
    posted = CommitStatus.objects.filter(service=OuterRef("pk"))
    return Service.objects.filter(Q(code_host__gt="") | Exists(posted)).order_by("name")
