"""Celery tasks of the health app: dispatch due probes, probe a batch, prune old rows.

Tasks are thin: they take ids, call services, and keep their state in our tables.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from health.locations import location_here, location_queue, location_queue_drop_stale
from health.models import DEFAULT_LOCATION, Probe
from health.probing import probes_execute
from health.services import (
    probe_results_record,
    probe_specs_build,
    probes_claim_due_located,
    retention_prune,
)
from health.services.sealing import latency_points_seal
from health.services.slo_alerts import slo_alerts_evaluate

logger = logging.getLogger(__name__)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@shared_task(acks_late=True, ignore_result=True, time_limit=30, soft_time_limit=25)
def probes_dispatch() -> int:
    """Claim the probes due before the next tick and send them to workers in batches.

    Probes due up to ``HEALTH_DISPATCH_LOOKAHEAD_SECONDS`` ahead are claimed now and sent with an
    ETA just before their due time, so the probe runs on time even though the beat only ticks
    every few seconds. A probe run from several locations goes to each location's queue
    (``health.locations``), after dropping that queue's expired batches
    (``location_queue_drop_stale``). Returns how many probes were dispatched.
    """
    now = timezone.now()
    lookahead = _setting("HEALTH_DISPATCH_LOOKAHEAD_SECONDS", 3.0)
    batch_size = int(_setting("HEALTH_PROBE_BATCH_SIZE", 200))
    claimed = probes_claim_due_located(
        now=now + timedelta(seconds=lookahead),
        limit=int(_setting("HEALTH_DISPATCH_LIMIT", 5000)),
    )
    by_location: dict[str, list[tuple[int, datetime]]] = {}
    for probe_id, due, labels in claimed:
        for label in labels or [DEFAULT_LOCATION]:
            by_location.setdefault(label, []).append((probe_id, due))
    for label, located in sorted(by_location.items()):
        queue = location_queue(label)
        routing: dict[str, Any] = {"queue": queue} if queue else {}
        if queue:
            # A location without a worker must not pile up batches without bound.
            location_queue_drop_stale(queue, now=now)
        # Claimed probes come earliest first, so each batch covers a short span of due times.
        for start in range(0, len(located), batch_size):
            batch = located[start : start + batch_size]
            first_due = batch[0][1]
            probes_run_batch.apply_async(
                args=([probe_id for probe_id, _ in batch],),
                kwargs={"due_at": [due.timestamp() for _, due in batch], "location": label},
                # The worker picks it up just before the first probe is due and waits the rest.
                eta=max(now, first_due - timedelta(seconds=0.5)),
                # A batch that could not start within a minute is stale: the next claim covers it.
                expires=max(now, first_due) + timedelta(seconds=60),
                **routing,
            )
    return len(claimed)


@shared_task(acks_late=True, ignore_result=True, time_limit=120, soft_time_limit=100)
def probes_run_batch(
    probe_ids: list[int], due_at: list[float] | None = None, location: str | None = None
) -> int:
    """Probe ``probe_ids`` concurrently (each not before its due time) and record the outcomes.

    ``due_at`` holds the epoch seconds each probe was due, in the same order. The results carry
    this worker's location (``STAGELOOP_PROBE_LOCATION``), which is where they really ran from,
    even if the batch was meant for ``location``. Returns how many outcomes were recorded.
    Running it twice records the probes twice, never corrupts a row.
    """
    here = location_here()
    if location is not None and location != here:
        logger.warning(
            "a batch for location %r ran on a worker of location %r; check the worker's -Q "
            "and STAGELOOP_PROBE_LOCATION",
            location,
            here,
        )
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
    probe_results_record(outcomes=outcomes, due_at=due, location=here)
    return len(outcomes)


@shared_task(acks_late=True, ignore_result=True, time_limit=1800, soft_time_limit=1700)
def health_retention_prune() -> dict[str, int]:
    """Delete health rows past their retention (hourly)."""
    deleted = retention_prune(now=timezone.now())
    logger.info("health retention pruned %s", deleted)
    return deleted


@shared_task(acks_late=True, ignore_result=True, time_limit=55, soft_time_limit=50)
def slo_alerts_check() -> dict[str, int]:
    """Open and close the SLOs' burn-rate alerts (every minute)."""
    result = slo_alerts_evaluate(now=timezone.now())
    return {"opened": len(result.opened), "closed": len(result.closed)}


@shared_task(acks_late=True, ignore_result=True, time_limit=1800, soft_time_limit=1700)
def latency_points_seal_task() -> dict[str, int]:
    """Compute the chart points of the hours and days closed since the last pass (every 5 min)."""
    written = latency_points_seal(now=timezone.now())
    logger.info("latency points sealed %s", written)
    return written
