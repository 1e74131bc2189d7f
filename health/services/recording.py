"""Recording probe outcomes: results, rollups, consecutive counters and incidents, in one go."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction

from health.incidents_logic import (
    IncidentState,
    locations_state_dump,
    locations_state_load,
    step_incident,
    step_locations,
)
from health.models import DEFAULT_LOCATION, Incident, Probe, ProbeResult
from health.probing import ProbeOutcome
from health.selectors.maintenance import maintenance_occurrences
from health.services.rollups import rollups_add
from health.services.sealing import latency_points_reopen
from integrations.services.events import incident_closed, incident_opened
from runs.models import Revision

logger = logging.getLogger(__name__)


def probe_results_record(
    *,
    outcomes: Sequence[ProbeOutcome],
    due_at: Mapping[int, datetime] | None = None,
    revision_id: int | None = None,
    incidents: bool = True,
    location: str = DEFAULT_LOCATION,
) -> list[ProbeResult]:
    """Store ``outcomes`` and everything that follows from them, all or nothing.

    - one ProbeResult per outcome, with the revision it hit: ``revision_id`` when the caller
      aimed the probes at one revision's own URL, else the revision named by the
      ``X-Stageloop-Revision`` header when the service answered with one we know, else the
      service's current revision;
    - the minute and hour rollups of those results;
    - whether each was checked during a maintenance window of its service
      (``in_maintenance``): such results count apart in the rollups and never step incidents;
    - unless ``incidents`` is False, each probe's consecutive failure/success counters, and the
      incidents they open or close (``health.incidents_logic.step_incident`` with the probe's
      own thresholds). An incident starts at the first failure of the run that opened it, with
      that failure's revision and error, and ends at the first success of the run that closed
      it. A probe run from several locations opens its incident when ``quorum`` of them are
      failing and closes it when fewer are (``step_locations``); ``location`` is where these
      outcomes were probed from. Samples recorded with ``incidents=False`` (a canary
      comparison, probing two revisions every second) are not part of any run.

    Outcomes of probes deleted meanwhile are dropped. The probe rows are locked for the duration,
    so two workers recording the same probe apply their outcomes one after the other.
    """
    if not outcomes:
        return []
    due_at = due_at or {}
    with transaction.atomic():
        probes = {
            probe.id: probe
            for probe in Probe.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(id__in={o.probe_id for o in outcomes})
            .order_by("id")
        }
        ordered = sorted(
            (o for o in outcomes if o.probe_id in probes), key=lambda o: (o.checked_at, o.probe_id)
        )
        revisions = _revisions_named(ordered, probes)
        in_maintenance = _in_maintenance(ordered, probes)
        results = [
            ProbeResult(
                probe_id=o.probe_id,
                revision_id=revision_id
                or revisions.get((probes[o.probe_id].service_id, o.revision))
                or probes[o.probe_id].service.current_revision_id,
                checked_at=o.checked_at,
                due_at=due_at.get(o.probe_id),
                location=location,
                ok=o.ok,
                status_code=o.status_code,
                latency_ms=max(o.latency_ms, 0.0),
                error_kind=o.error_kind,
                error=o.error,
                in_maintenance=i in in_maintenance,
            )
            for i, o in enumerate(ordered)
        ]
        ProbeResult.objects.bulk_create(results)
        rollups_add(results)
        if results:  # a batch recorded late changes sealed chart points (no query when in time)
            latency_points_reopen(checked_from=results[0].checked_at)
        if incidents:
            _incidents_step(results, probes)
    return results


def _in_maintenance(outcomes: Sequence[ProbeOutcome], probes: Mapping[int, Probe]) -> set[int]:
    """Positions in ``outcomes`` checked while their service's maintenance window was open."""
    if not outcomes:
        return set()
    found = maintenance_occurrences(
        service_ids={probe.service_id for probe in probes.values()},
        start=outcomes[0].checked_at,
        end=outcomes[-1].checked_at + timedelta(microseconds=1),
    )
    if not found:
        return set()
    return {
        i
        for i, o in enumerate(outcomes)
        if any(w.covers(o.checked_at) for w in found.get(probes[o.probe_id].service_id, ()))
    }


def _revisions_named(
    outcomes: Sequence[ProbeOutcome], probes: Mapping[int, Probe]
) -> dict[tuple[int, str], int]:
    names = {o.revision for o in outcomes if o.revision}
    if not names:
        return {}
    service_ids = {probe.service_id for probe in probes.values()}
    return {
        (service_id, name): pk
        for pk, service_id, name in Revision.objects.filter(
            service_id__in=service_ids, name__in=names
        ).values_list("pk", "service_id", "name")
    }


def _incidents_step(results: Sequence[ProbeResult], probes: Mapping[int, Probe]) -> None:
    open_incidents = {
        incident.probe_id: incident
        for incident in Incident.objects.filter(
            probe_id__in=probes.keys(), closed_at__isnull=True
        ).select_for_update()
    }
    states = {
        pid: IncidentState(
            consecutive_failures=p.consecutive_failures,
            consecutive_successes=p.consecutive_successes,
            open=pid in open_incidents,
        )
        for pid, p in probes.items()
    }
    per_location = {
        pid: locations_state_load(p.location_states, open=pid in open_incidents)
        for pid, p in probes.items()
    }
    for result in results:
        if result.in_maintenance:
            # A window freezes the probe's run: an open incident stays open, nothing advances.
            continue
        probe = probes[result.probe_id]
        # The probe's own counters run over every location's results, in the order checked.
        states[probe.id], _ = step_incident(
            states[probe.id],
            result.ok,
            fail_threshold=probe.failures_before_incident,
            recover_threshold=probe.successes_to_close,
        )
        located, action = step_locations(
            per_location[probe.id],
            result.location,
            result.ok,
            locations=probe.locations or [DEFAULT_LOCATION],
            quorum=min(probe.quorum, len(probe.locations or [DEFAULT_LOCATION])),
            fail_threshold=probe.failures_before_incident,
            recover_threshold=probe.successes_to_close,
        )
        per_location[probe.id] = located
        state = located.locations[result.location]
        if action == "open":
            first = _run_start(probe.id, state.consecutive_failures, result)
            open_incidents[probe.id] = Incident.objects.create(
                probe=probe,
                service_id=probe.service_id,
                revision_id=first.revision_id,
                opened_at=first.checked_at,
                first_error=first.error or first.error_kind,
            )
            logger.warning("incident %s opened for probe %s", open_incidents[probe.id].pk, probe.id)
            incident_opened(incident=open_incidents[probe.id])  # webhooks: incident.opened
        elif action == "close":
            incident = open_incidents.pop(probe.id)
            first = _run_start(probe.id, state.consecutive_successes, result)
            incident.closed_at = max(first.checked_at, incident.opened_at)
            incident.save(update_fields=["closed_at"])
            logger.info("incident %s closed for probe %s", incident.pk, probe.id)
            incident_closed(incident=incident)  # webhooks: incident.closed
    for pid, state in states.items():
        probes[pid].consecutive_failures = state.consecutive_failures
        probes[pid].consecutive_successes = state.consecutive_successes
        probes[pid].location_states = locations_state_dump(per_location[pid])
    _counters_save(list(probes.values()))


_PG_COUNTERS = """
UPDATE health_probe AS p
SET consecutive_failures = v.failures, consecutive_successes = v.successes,
    location_states = v.states::jsonb
FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::text[]::jsonb[])
    AS v(id, failures, successes, states)
WHERE p.id = v.id
"""


def _counters_save(probes: list[Probe]) -> None:
    """Write the probes' counters and location states (their rows are locked by the caller)."""
    fields = ["consecutive_failures", "consecutive_successes", "location_states"]
    if connection.vendor != "postgresql":
        Probe.objects.bulk_update(probes, fields)
        return
    # One UPDATE from arrays: bulk_update's CASE WHEN per row and field cost more CPU than the
    # rest of recording a batch together (profiled at 250 probes a batch).
    ordered = sorted(probes, key=lambda p: p.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_COUNTERS,
            [
                [p.pk for p in ordered],
                [p.consecutive_failures for p in ordered],
                [p.consecutive_successes for p in ordered],
                [json.dumps(p.location_states) for p in ordered],
            ],
        )


def _run_start(probe_id: int, length: int, latest: ProbeResult) -> ProbeResult:
    """The first result of the run of ``length`` alike results that ends with ``latest``, at
    ``latest``'s location.

    Only results alike (all failures or all successes) are read: samples recorded without
    stepping incidents may sit between the run's results, and a success never starts a failure.
    """
    if length <= 1:
        return latest
    run = (
        ProbeResult.objects.filter(
            probe_id=probe_id,
            location=latest.location,
            checked_at__lte=latest.checked_at,
            ok=latest.ok,
            in_maintenance=False,
        )
        .order_by("-checked_at", "-pk")
        .only("checked_at", "error", "error_kind", "revision_id")[:length]
    )
    rows = list(run)
    return rows[-1] if rows else latest
