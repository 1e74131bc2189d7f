"""Probe several revisions of one service side by side, every interval, for a canary step.

Each revision is probed at its own URL (``revision.url`` + each enabled probe's path), never
through the service's URL, so the samples of a candidate and of the stable revision cannot mix
however the traffic is split. Every result is recorded as a ProbeResult of the revision it was
aimed at, so the health page and the gate's probe rules see the step; the samples do not step the
probes' incident counters (they come every second, from two revisions in turn, and the scheduled
probes keep owning incidents).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from health.models import Probe, ProbeResult
from health.probing import ProbeOutcome, ProbeSpec, probes_execute
from health.services.probes import probe_spec, service_probe_ensure
from health.services.recording import probe_results_record
from runs.models import Revision, Service

_MAX_ROUNDS_IN_FLIGHT = 16


@dataclass
class Samples:
    """What one revision answered during a comparison.

    ``latencies_ms`` holds the latency of every check that got a healthy answer, slow ones
    (``too_slow``) included; a failed check (refused, timed out, wrong status, bad body) is
    counted in ``errors`` instead, because its latency says nothing about the service's speed
    (a refused connection is fast). ``total`` counts every check, healthy or not.
    """

    revision_id: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    total: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    first_result_id: int | None = None
    last_result_id: int | None = None
    first_checked_at: datetime | None = None
    last_checked_at: datetime | None = None
    probes: list[str] = field(default_factory=list)
    """Names of the probes that were run against the revision."""
    skipped: list[str] = field(default_factory=list)
    """Sentences naming the probes that could not target a revision."""
    stopped: bool = False
    """True when ``stop()`` ended the comparison before its time."""


def revisions_probe_compare(
    *,
    service: Service,
    revisions: Sequence[Revision],
    seconds: float,
    interval: float = 1.0,
    stop: Callable[[], bool] | None = None,
) -> dict[int, Samples]:
    """Probe every revision in ``revisions`` each ``interval`` seconds for ``seconds``.

    A round of probes starts every ``interval`` seconds whether or not the previous one has
    finished (a hanging revision costs its probe timeout per check, and must not thin out the
    samples), all revisions and probes of a round at once. ``stop()`` is asked before every
    round; True ends the comparison early, with the rounds already started still recorded.

    Uses the service's enabled probes that have a path (a default probe on its health path if
    it has none); probes with a full URL are skipped and named in ``Samples.skipped``. Returns
    the samples per revision id. Raises ``ValueError`` when a revision has no URL or belongs to
    another service, or no probe has a path; a revision that does not answer is not an error,
    its checks are.
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval}")
    revisions = list({revision.pk: revision for revision in revisions}.values())
    if not revisions:
        return {}
    for revision in revisions:
        if revision.service_id != service.pk:
            raise ValueError(
                f"revision {revision.name} belongs to service {revision.service_id}, "
                f"not to {service.name}; compare revisions of one service"
            )
        if not revision.url:
            raise ValueError(
                f"revision {revision.name} has no URL to probe; compare deployed revisions only"
            )

    service_probe_ensure(service=service)
    probes = list(Probe.objects.filter(service=service, enabled=True))
    targeted = [probe for probe in probes if not probe.url and probe.path]
    skipped = [
        f"probe “{probe.name}” checks a full URL, not a path on the revision; it was skipped"
        for probe in probes
        if probe not in targeted
    ]
    if not targeted:
        raise ValueError(
            f"service {service.name} has no enabled probe with a path to check on a revision"
        )

    samples = {
        revision.pk: Samples(
            revision_id=revision.pk,
            probes=[probe.name for probe in targeted],
            skipped=list(skipped),
        )
        for revision in revisions
    }
    specs, owners = _round_specs(targeted, revisions)
    started = time.monotonic()
    timeout = max(spec.timeout_s for spec in specs)
    workers = min(_MAX_ROUNDS_IN_FLIGHT, math.ceil(timeout / interval) + 1)
    pending: list[Future[list[ProbeOutcome]]] = []
    stopped = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="compare") as pool:
        rounds = 0
        while rounds * interval < seconds:
            if stop is not None and stop():
                stopped = True
                break
            pending.append(pool.submit(probes_execute, specs, concurrency=len(specs)))
            rounds += 1
            pending = _record_done(pending, owners, samples)
            next_round = started + rounds * interval
            time.sleep(max(0.0, next_round - time.monotonic()))
        for future in pending:
            future.result()
        _record_done(pending, owners, samples)
    for got in samples.values():
        got.stopped = stopped
    return samples


def _round_specs(
    probes: Sequence[Probe], revisions: Sequence[Revision]
) -> tuple[list[ProbeSpec], list[int]]:
    """The specs of one round, every probe on every revision, and the revision of each spec."""
    specs: list[ProbeSpec] = []
    owners: list[int] = []
    for revision in revisions:
        for probe in probes:
            url = revision.url.rstrip("/") + "/" + probe.path.lstrip("/")
            specs.append(probe_spec(probe, url=url))
            owners.append(revision.pk)
    return specs, owners


def _record_done(
    pending: list[Future[list[ProbeOutcome]]], owners: Sequence[int], samples: dict[int, Samples]
) -> list[Future[list[ProbeOutcome]]]:
    """Record the rounds that have finished, in order; return those still running."""
    while pending and pending[0].done():
        outcomes = pending.pop(0).result()
        for revision_id, got in samples.items():
            aimed = [o for o, owner in zip(outcomes, owners, strict=True) if owner == revision_id]
            results = probe_results_record(outcomes=aimed, revision_id=revision_id, incidents=False)
            _add(got, results)
    return pending


def _add(got: Samples, results: Sequence[ProbeResult]) -> None:
    for result in results:
        got.total += 1
        if result.ok or result.error_kind == "too_slow":
            got.latencies_ms.append(result.latency_ms)
        if not result.ok:
            got.errors += 1
        if result.error_kind:
            got.error_kinds[result.error_kind] = got.error_kinds.get(result.error_kind, 0) + 1
        if got.first_result_id is None or result.pk < got.first_result_id:
            got.first_result_id = result.pk
        if got.last_result_id is None or result.pk > got.last_result_id:
            got.last_result_id = result.pk
        if got.first_checked_at is None or result.checked_at < got.first_checked_at:
            got.first_checked_at = result.checked_at
        if got.last_checked_at is None or result.checked_at > got.last_checked_at:
            got.last_checked_at = result.checked_at
