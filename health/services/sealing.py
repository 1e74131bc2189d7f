"""Sealing chart points: the percentiles of every closed hour and local day, per service and
revision, computed once from the rollups (``health.models.LatencyPoint``).

Merging sketches costs a few microseconds per stored bin, and a year of 50 services' day
rollups holds millions of bins: no page can merge that per request within 200 ms. A closed
bucket no longer changes, so its percentiles are computed once here, and pages read points for
sealed buckets and merge rollups only for the open ones since (``health.selectors.latency``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from health import sketch
from health.models import LatencyPoint, LatencySeal, ProbeRollupDay, ProbeRollupHour
from health.ranges import local_day_start
from health.selectors._sql import epoch_bucket, sketches_by

# A bucket is sealed this long after it ends: results are recorded within seconds of their check.
GRACE = timedelta(minutes=2)
# Clocks of workers and beat may differ by this much: a result is "maybe late" this much early.
CLOCK_SLACK = timedelta(minutes=1)


def _hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# step → (rollups it is merged from, start of the bucket holding a moment, buckets per
# transaction, how far back the first pass seals: hour points serve ranges up to 7 days, which
# people open for recent weeks; an older week is merged from hour rollups as before)
_STEPS: dict[str, tuple[type, Callable[[datetime], datetime], timedelta, timedelta | None]] = {
    LatencyPoint.Step.HOUR: (ProbeRollupHour, _hour_start, timedelta(days=1), timedelta(days=32)),
    LatencyPoint.Step.DAY: (ProbeRollupDay, local_day_start, timedelta(days=30), None),
}


def latency_points_seal(*, now: datetime, since: datetime | None = None) -> dict[str, int]:
    """Compute the points of every bucket closed (``GRACE`` ago) and not yet sealed; with
    ``since``, recompute the sealed ones from the bucket holding ``since`` on as well (after
    rollups were rebuilt). The first pass seals every day kept and the last 32 days of hours.
    Returns the points written per step.

    Each chunk of buckets is one transaction that replaces its points and moves the seal, under
    the seal row's lock: two passes at once do the same chunk one after the other, and a pass
    stopped halfway leaves a seal that is right for the points it wrote.
    """
    written: dict[str, int] = {}
    for step, (model, bucket_of, chunk, history) in _STEPS.items():
        limit = bucket_of(now - GRACE)
        current = LatencySeal.objects.filter(step=step).first()
        if current is None:
            start = _first_bucket(model, bucket_of, limit)
            if history is not None:
                start = max(start, bucket_of(now - history))
            LatencySeal.objects.get_or_create(
                step=step, defaults={"sealed_from": start, "sealed_until": start}
            )
        else:
            start = current.sealed_until
            if since is not None:
                start = max(current.sealed_from, min(start, bucket_of(since)))
        written[step] = 0
        while start < limit:
            stop = min(limit, bucket_of(start + chunk))
            if stop <= start:  # a chunk shorter than one bucket cannot happen, but never loop
                stop = limit
            written[step] += _seal_chunk(step, model, start, stop)
            start = stop
    return written


def latency_points_reopen(*, checked_from: datetime, now: datetime | None = None) -> None:
    """Mark stale the sealed points that results checked at or after ``checked_from`` change:
    move each step's seal back to the bucket holding ``checked_from`` when that bucket is sealed,
    so pages merge the rollups from there on at once and the next pass recomputes the points.

    Called by the recorder in the transaction that writes the results' rollups; results of an
    hour that cannot have been sealed yet (the usual case) cost no query.
    """
    now = now or timezone.now()
    hour = _hour_start(checked_from)
    # A day holding the hour ends no earlier than the hour does: if the hour is open, so is it.
    if hour + timedelta(hours=1) + GRACE - CLOCK_SLACK > now:
        return
    day = local_day_start(checked_from)
    hour_step, day_step = LatencyPoint.Step.HOUR, LatencyPoint.Step.DAY
    # Both rows are updated, moved or not, so the UPDATE waits for a pass sealing a chunk (it
    # holds the row's lock) and then decides on the seal that pass left: a condition in WHERE
    # would be judged on the seal before that pass, and miss the points it is writing now.
    LatencySeal.objects.filter(step__in=[hour_step, day_step]).update(
        sealed_until=Case(
            When(Q(step=hour_step, sealed_from__lte=hour, sealed_until__gt=hour), then=Value(hour)),
            When(Q(step=day_step, sealed_from__lte=day, sealed_until__gt=day), then=Value(day)),
            default=F("sealed_until"),
        )
    )


def _first_bucket(model, bucket_of, limit: datetime) -> datetime:
    first = model.objects.order_by("bucket_start").values_list("bucket_start", flat=True).first()
    return limit if first is None else bucket_of(first)


def _seal_chunk(step: str, model, start: datetime, stop: datetime) -> int:
    with transaction.atomic():
        seal = LatencySeal.objects.select_for_update().get(step=step)
        merged = sketches_by(
            table=model._meta.db_table,
            groups=["p.service_id", epoch_bucket(1), "r.revision_id"],
            where="TRUE",
            params=[],
            start=start,
            end=stop,
        )
        LatencyPoint.objects.filter(
            step=step, bucket_start__gte=start, bucket_start__lt=stop
        ).delete()
        LatencyPoint.objects.bulk_create(
            [
                _point(step, service_id, epoch, revision_id, found)
                for (service_id, epoch, revision_id), found in merged.items()
            ],
            batch_size=1000,
        )
        # Late results may have moved the seal back before this chunk since the pass read it
        # (latency_points_reopen): the chunk's points are right, but the seal stays there.
        if seal.sealed_until >= start:
            LatencySeal.objects.filter(step=step).update(sealed_until=stop)
        return len(merged)


def _point(step: str, service_id: int, epoch: int, revision_id: int | None, found) -> LatencyPoint:
    p50, p95, p99 = sketch.percentiles(found.sketch, (0.50, 0.95, 0.99))
    return LatencyPoint(
        service_id=service_id,
        revision_id=revision_id,
        step=step,
        bucket_start=datetime.fromtimestamp(int(epoch), tz=UTC),
        p50=p50 or 0.0,
        p95=p95 or 0.0,
        p99=p99 or 0.0,
        samples=found.samples,
        error=found.error,
    )
