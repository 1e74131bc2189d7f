"""The sweeper: nothing stays "running" after its worker died, nothing queued is forgotten."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from runs.models import Deploy, TestRun
from runs.services.enqueue import deploy_and_test_send
from runs.services.loops import loops_resume_waiting
from runs.services.outbox import OutboxFlush, outbox_flush

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=2)
REQUEUE_AFTER = timedelta(minutes=2)


@dataclass
class SweepReport:
    lost_deploys: int
    lost_runs: int
    requeued: list[int]
    outbox: OutboxFlush = field(default_factory=OutboxFlush)


def _timed_out(queryset, now: datetime) -> list[int]:
    """Ids of rows whose started_at + timeout_seconds + GRACE lies in the past.

    Only rows that are running are looked at: a handful at any time, so the arithmetic is done
    here rather than in SQL, where interval maths differs between PostgreSQL and SQLite.
    """
    return [
        pk
        for pk, started, timeout in queryset.values_list("pk", "started_at", "timeout_seconds")
        if started is None or started + timedelta(seconds=timeout) + GRACE < now
    ]


def runs_sweep(*, now: datetime | None = None) -> SweepReport:
    """Mark deploys and runs whose worker died as lost; re-enqueue deploys whose message was lost;
    let waiting loops deploy a build that waited for their service to be free.

    A re-enqueued deploy is harmless if the first message still arrives: the task claims the
    row with a conditional UPDATE and the second finds nothing to do.
    """
    now = now or timezone.now()
    lost_deploy_ids = _timed_out(Deploy.objects.filter(status=Deploy.Status.RUNNING), now)
    lost_deploys = Deploy.objects.filter(
        pk__in=lost_deploy_ids, status=Deploy.Status.RUNNING
    ).update(
        status=Deploy.Status.LOST,
        finished_at=now,
        error="Lost: the worker stopped answering before the deploy finished.",
    )
    lost_run_ids = _timed_out(TestRun.objects.filter(status=TestRun.Status.RUNNING), now) + list(
        TestRun.objects.filter(
            status__in=TestRun.ACTIVE, deploy_id__in=lost_deploy_ids
        ).values_list("pk", flat=True)
    )
    lost_runs = TestRun.objects.filter(pk__in=lost_run_ids, status__in=TestRun.ACTIVE).update(
        status=TestRun.Status.LOST,
        finished_at=now,
        error="Lost: the worker stopped answering before the run finished.",
    )
    # Messages the broker did not take (it was down) are sent again, before the deploys below.
    outbox = outbox_flush(now=now)
    requeued = list(
        Deploy.objects.filter(
            status=Deploy.Status.QUEUED, created_at__lt=now - REQUEUE_AFTER
        ).values_list("pk", flat=True)
    )
    for deploy_id in requeued:
        try:
            deploy_and_test_send(deploy_id=deploy_id)
        except Exception:  # the broker is still down: the next sweep tries again
            logger.exception("sweeper: could not enqueue deploy %s", deploy_id)
    # Builds that waited for a deploy of their service: it ended (or was just lost) unseen.
    resumed = loops_resume_waiting()
    if lost_deploys or lost_runs or requeued or resumed:
        logger.warning(
            "sweeper: %s deploys and %s runs lost, deploys %s enqueued again, loops %s resumed",
            lost_deploys,
            lost_runs,
            requeued,
            [loop.pk for loop in resumed],
        )
    return SweepReport(
        lost_deploys=lost_deploys, lost_runs=lost_runs, requeued=requeued, outbox=outbox
    )
