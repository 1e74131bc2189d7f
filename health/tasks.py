"""Celery tasks of the health app: dispatch due probes, probe a batch, prune old rows.

Tasks are thin: they take ids, call services, and keep their state in our tables.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from health.models import Probe
from health.probing import probes_execute
from health.services import (
    probe_results_record,
    probe_specs_build,
    probes_claim_due_with_times,
    retention_prune,
)
from health.services.sealing import latency_points_seal

logger = logging.getLogger(__name__)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@shared_task(acks_late=True, ignore_result=True, time_limit=30, soft_time_limit=25)
def probes_dispatch() -> int:
    """Claim the probes due before the next tick and send them to workers in batches.

    Probes due up to ``HEALTH_DISPATCH_LOOKAHEAD_SECONDS`` ahead are claimed now and sent with an
    ETA just before their due time, so the probe runs on time even though the beat only ticks
    every few seconds. Returns how many probes were dispatched.
    """
    now = timezone.now()
    lookahead = _setting("HEALTH_DISPATCH_LOOKAHEAD_SECONDS", 3.0)
    batch_size = int(_setting("HEALTH_PROBE_BATCH_SIZE", 50))
    claimed = probes_claim_due_with_times(
        now=now + timedelta(seconds=lookahead),
        limit=int(_setting("HEALTH_DISPATCH_LIMIT", 5000)),
    )
    # Claimed probes come earliest first, so each batch covers a short span of due times.
    for start in range(0, len(claimed), batch_size):
        batch = claimed[start : start + batch_size]
        first_due = batch[0][1]
        probes_run_batch.apply_async(
            args=([probe_id for probe_id, _ in batch],),
            kwargs={"due_at": [due.timestamp() for _, due in batch]},
            # The worker picks it up just before the first probe is due and waits the rest.
            eta=max(now, first_due - timedelta(seconds=0.5)),
            # A batch that could not start within a minute is stale: the next claim covers it.
            expires=max(now, first_due) + timedelta(seconds=60),
        )
    return len(claimed)


@shared_task(acks_late=True, ignore_result=True, time_limit=120, soft_time_limit=100)
def probes_run_batch(probe_ids: list[int], due_at: list[float] | None = None) -> int:
    """Probe ``probe_ids`` concurrently (each not before its due time) and record the outcomes.

    ``due_at`` holds the epoch seconds each probe was due, in the same order. Returns how many
    outcomes were recorded. Running it twice records the probes twice, never corrupts a row.
    """
    due = (
        {pid: datetime.fromtimestamp(ts, tz=UTC) for pid, ts in zip(probe_ids, due_at, strict=True)}
        if due_at
        else {}
    )
    probes = Probe.objects.select_related("service__current_revision").filter(
        id__in=probe_ids, enabled=True
    )
    specs, skipped = probe_specs_build(probes, due_at=due)
    if skipped:
        logger.info("probes %s skipped: their service has no URL yet", skipped)
    outcomes = probes_execute(specs, concurrency=int(_setting("HEALTH_PROBE_CONCURRENCY", 50)))
    probe_results_record(outcomes=outcomes, due_at=due)
    return len(outcomes)


@shared_task(acks_late=True, ignore_result=True, time_limit=1800, soft_time_limit=1700)
def health_retention_prune() -> dict[str, int]:
    """Delete health rows past their retention (hourly)."""
    deleted = retention_prune(now=timezone.now())
    logger.info("health retention pruned %s", deleted)
    return deleted


@shared_task(acks_late=True, ignore_result=True, time_limit=1800, soft_time_limit=1700)
def latency_points_seal_task() -> dict[str, int]:
    """Compute the chart points of the hours and days closed since the last pass (every 5 min)."""
    written = latency_points_seal(now=timezone.now())
    logger.info("latency points sealed %s", written)
    return written
