"""Commit statuses: a run's state and a gate verdict posted on the revision's commit at the
service's code host (GitHub or GitLab), delivered like webhooks.

A row is written in the transaction that moved the run or stored the verdict (a rollback posts
nothing) and a worker is woken on commit; the beat's ``commit-statuses-send`` picks up retries.
A claim leases due rows as deliveries' claims do; the posts run outside any transaction; each
outcome is recorded: delivered, failed (401, 403, 404, 422: no retry), pending again after a
backoff (5xx, 408, 429, timeouts, connection errors; a Retry-After is honoured) or given up.

Statuses of one commit and context must reach the host in order, or it would end on an older
state: a new row supersedes the rows of its commit and context not yet sent, and a row waits
while an older one of its commit and context is being posted.

Posted for: a service with a code host and a repository whose host's token is set
(STAGELOOP_GITHUB_TOKEN, STAGELOOP_GITLAB_TOKEN), on a revision with a commit sha. Nothing is
written otherwise (without any token, not even a query is made).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from integrations.codehost import GITHUB, GITLAB, Host, Posted, StatusPost, Timeouts, statuses_post
from integrations.models import CommitStatus
from integrations.payloads import link
from integrations.services.backoff import retry_delay
from integrations.services.enqueue import commit_statuses_send_on_commit
from runs.models import TestRun

logger = logging.getLogger(__name__)

Status = CommitStatus.Status
State = CommitStatus.State
BATCH = 50

# A run's status -> the commit status posted (a queued run posts nothing yet).
_RUN_STATES = {
    "running": State.PENDING,
    "passed": State.SUCCESS,
    "failed": State.FAILURE,
    "error": State.ERROR,
    "lost": State.ERROR,
    "cancelled": State.CANCELLED,
}


def hosts() -> dict[str, Host]:
    """The code hosts whose token is set, by kind."""
    found = {}
    if settings.GITHUB_TOKEN:
        found[GITHUB] = Host(GITHUB, settings.GITHUB_API_URL, settings.GITHUB_TOKEN)
    if settings.GITLAB_TOKEN:
        found[GITLAB] = Host(GITLAB, settings.GITLAB_URL, settings.GITLAB_TOKEN)
    return found


def commit_statuses_on() -> bool:
    """Whether any code host is configured (callers skip finding ids when none is)."""
    return bool(settings.GITHUB_TOKEN or settings.GITLAB_TOKEN)


def _url(name: str, pk: int, anchor: str = "") -> str:
    # A host needs an absolute link; without STAGELOOP_PUBLIC_URL the status carries none.
    return link(name, pk) + anchor if settings.PUBLIC_URL else ""


def _run_description(run: TestRun) -> str:
    if run.status == "running":
        return f"Running {run.suite.name}…"
    if run.status in ("passed", "failed"):
        counts = f"{run.passed} passed, {run.failed} failed"
        if run.errors:
            counts += f", {run.errors} errors"
        if run.skipped:
            counts += f", {run.skipped} skipped"
        return f"{run.status.capitalize()}: {counts} of {run.total}."
    first_line = (run.error or "").strip().splitlines()[0] if run.error else ""
    return f"{run.get_status_display()}: {first_line}" if first_line else run.get_status_display()


def commit_statuses_for_runs(*, run_ids: Sequence[int], status: str) -> int:
    """Write the commit status of each run of ``run_ids`` now in ``status`` (in the caller's
    transaction); return how many were written."""
    state = _RUN_STATES.get(str(status))
    configured = hosts()
    if state is None or not configured or not run_ids:
        return 0
    runs = (
        TestRun.objects.filter(pk__in=run_ids, status=status)
        .filter(service__code_host__in=list(configured), service__code_repository__gt="")
        .exclude(revision__isnull=True)
        .exclude(revision__commit_sha="")
        .select_related("service", "suite", "revision")
    )
    rows = [
        CommitStatus(
            service=run.service,
            run=run,
            host=run.service.code_host,
            repository=run.service.code_repository,
            sha=run.revision.commit_sha,
            context=f"stageloop/{run.service.name}/{run.suite.name}",
            state=state,
            description=_run_description(run)[:140],
            target_url=_url("run-detail", run.pk),
        )
        for run in runs
        if run.revision is not None
    ]
    return _write(rows)


def commit_status_for_verdict(*, verdict) -> int:
    """Write the gate verdict's commit status (in the caller's transaction). A dry-run policy
    never blocks, so its verdict posts success and says what the gate would have done."""
    revision = verdict.revision
    service = revision.service
    if service.code_host not in hosts() or not service.code_repository or not revision.commit_sha:
        return 0
    state = {"pass": State.SUCCESS, "fail": State.FAILURE}.get(verdict.outcome, State.ERROR)
    description = f"Gate {verdict.get_outcome_display().lower()}: {verdict.summary}"
    if verdict.dry_run:
        state, description = State.SUCCESS, f"Dry run, not enforced. {description}"
    row = CommitStatus(
        service=service,
        verdict=verdict,
        run_id=verdict.run_id,
        host=service.code_host,
        repository=service.code_repository,
        sha=revision.commit_sha,
        context=f"stageloop/{service.name}/gate",
        state=state,
        description=description[:140],
        target_url=_url("revision-detail", revision.pk, "#verdict"),
    )
    return _write([row])


def _write(rows: list[CommitStatus]) -> int:
    if not rows:
        return 0
    now = timezone.now()
    for row in rows:
        # An older state of this commit and context not sent yet would overwrite this one.
        CommitStatus.objects.filter(
            status=Status.PENDING,
            host=row.host,
            repository=row.repository,
            sha=row.sha,
            context=row.context,
        ).update(status=Status.SUPERSEDED, next_attempt_at=None, finished_at=now)
        row.next_attempt_at = now
    CommitStatus.objects.bulk_create(rows)
    commit_statuses_send_on_commit()
    return len(rows)


class RepostRefused(ValueError):
    """The status cannot be posted again; the message says why."""


def commit_status_repost(*, status: CommitStatus) -> CommitStatus:
    """Post a failed or given-up status again, as a new row (the failed one stays in the log),
    like a webhook's redelivery. Refused, with a sentence, while it is not finished badly, when
    a newer status of its commit and context exists (the host would go back to an older
    state), or when its host has no token."""
    if status.status not in (Status.FAILED, Status.GIVEN_UP):
        raise RepostRefused(
            f"Only a failed or given-up status can be posted again; this one is "
            f"{status.get_status_display().lower()}."
        )
    newer = CommitStatus.objects.filter(
        host=status.host,
        repository=status.repository,
        sha=status.sha,
        context=status.context,
        pk__gt=status.pk,
    )
    if newer.exists():
        raise RepostRefused(
            f"A newer status of {status.context} on this commit was written since: posting "
            "this one again would put the commit back on an older state."
        )
    if status.host not in hosts():
        variable = "STAGELOOP_GITHUB_TOKEN" if status.host == GITHUB else "STAGELOOP_GITLAB_TOKEN"
        raise RepostRefused(
            f"No token is set for {status.get_host_display()}: set {variable}, then post again."
        )
    copy = CommitStatus(
        service_id=status.service_id,
        run_id=status.run_id,
        verdict_id=status.verdict_id,
        host=status.host,
        repository=status.repository,
        sha=status.sha,
        context=status.context,
        state=status.state,
        description=status.description,
        target_url=status.target_url,
    )
    _write([copy])
    logger.info("commit status %s posted again as %s", status.pk, copy.pk)
    return copy


# -- sending ---------------------------------------------------------------------------------


@dataclass
class SendReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # failed or given up


def commit_statuses_claim(*, now: datetime, limit: int = BATCH) -> list[int]:
    """Claim up to ``limit`` due statuses (oldest first), skipping one whose commit and context
    has an older status being posted; return their ids."""
    lease = now + timedelta(seconds=settings.COMMIT_STATUS_TIMEOUT + 60)
    in_flight = CommitStatus.objects.filter(
        status=Status.DELIVERING,
        claimed_until__gte=now,
        host=OuterRef("host"),
        repository=OuterRef("repository"),
        sha=OuterRef("sha"),
        context=OuterRef("context"),
        pk__lt=OuterRef("pk"),
    )
    due = (
        CommitStatus.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lte=now)
            | Q(status=Status.DELIVERING, claimed_until__lt=now)
        )
        .filter(~Exists(in_flight))
        .order_by("next_attempt_at", "pk")
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            CommitStatus.objects.filter(pk__in=ids).update(
                status=Status.DELIVERING, claimed_until=lease, attempts=F("attempts") + 1
            )
    return ids


def commit_statuses_send_due(
    *, budget_seconds: float = 20.0, now: datetime | None = None
) -> SendReport:
    """Claim and post due statuses in batches until none are due or the budget is spent.
    ``now`` (tests) claims one batch as if it were that time, so a backoff is skipped."""
    report = SendReport()
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds:
        ids = commit_statuses_claim(now=now or timezone.now())
        if ids:
            commit_statuses_send(ids=ids, report=report)
        if not ids or now is not None:
            break
    return report


def commit_statuses_send(*, ids: Sequence[int], report: SendReport | None = None) -> SendReport:
    """Post the claimed statuses ``ids`` and record how each went."""
    report = report or SendReport()
    rows = list(CommitStatus.objects.filter(pk__in=ids, status=Status.DELIVERING))
    configured = hosts()
    items, unsendable = [], []
    for row in rows:
        host = configured.get(row.host)
        if host is None:  # the token was removed since the row was written
            unsendable.append(row)
            continue
        items.append(
            StatusPost(
                status_id=row.pk,
                host=host,
                repository=row.repository,
                sha=row.sha,
                state=row.state,
                context=row.context,
                description=row.description,
                target_url=row.target_url,
            )
        )
    outcomes = statuses_post(
        items,
        timeouts=Timeouts(
            connect=settings.COMMIT_STATUS_CONNECT_TIMEOUT, total=settings.COMMIT_STATUS_TIMEOUT
        ),
    )
    outcomes += [
        Posted(
            row.pk,
            False,
            False,
            None,
            0,
            "",
            f"Not sent: no token is set for {row.get_host_display()} any more.",
        )
        for row in unsendable
    ]
    commit_statuses_record(rows=rows, outcomes=outcomes, report=report)
    return report


def commit_statuses_record(
    *, rows: Sequence[CommitStatus], outcomes: Sequence[Posted], report: SendReport
) -> None:
    """Store each outcome on its row (only while it is still being delivered)."""
    now = timezone.now()
    by_id = {row.pk: row for row in rows}
    with transaction.atomic():
        for posted in outcomes:
            row = by_id[posted.status_id]
            fields: dict[str, Any] = {
                "last_status_code": posted.status_code,
                "response_ms": posted.response_ms,
                "response_excerpt": posted.excerpt,
                "error": posted.error[:500],
                "claimed_until": None,
            }
            if posted.ok:
                fields |= {"status": Status.DELIVERED, "next_attempt_at": None, "finished_at": now}
                report.delivered += 1
            elif posted.retry and row.attempts < settings.COMMIT_STATUS_MAX_ATTEMPTS:
                delay = retry_delay(
                    row.attempts,
                    retry_after=posted.retry_after,
                    base_seconds=settings.COMMIT_STATUS_RETRY_BASE_SECONDS,
                )
                fields |= {"status": Status.PENDING, "next_attempt_at": now + delay}
                report.retrying += 1
            else:
                if posted.retry:
                    fields["error"] = f"{posted.error} Gave up after {row.attempts} attempts."[:500]
                fields |= {
                    "status": Status.GIVEN_UP if posted.retry else Status.FAILED,
                    "next_attempt_at": None,
                    "finished_at": now,
                }
                report.failed += 1
                logger.warning(
                    "commit status %s for %s@%s not posted: %s",
                    row.pk,
                    row.repository,
                    row.sha[:12],
                    fields["error"],
                )
            report.attempted += 1
            CommitStatus.objects.filter(pk=row.pk, status=Status.DELIVERING).update(**fields)


def commit_statuses_prune(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete finished statuses older than WEBHOOKS_DELIVERIES_KEEP_DAYS (0 keeps all)."""
    days = settings.WEBHOOKS_DELIVERIES_KEEP_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = CommitStatus.objects.filter(created_at__lt=cutoff).exclude(
        status__in=[Status.PENDING, Status.DELIVERING]
    )
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:batch]):
        deleted += CommitStatus.objects.filter(pk__in=ids).delete()[0]
    return deleted
