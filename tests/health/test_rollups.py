"""Rollups: counts and sketches merge across batches; percentiles match the raw rows."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
from django.conf import settings
from django.db import connections

from health import sketch
from health.models import ProbeResult, ProbeRollupHour, ProbeRollupMinute
from health.ranges import RANGES
from health.selectors import latency_series
from health.selectors.latency import latency_p95_by_service
from health.services import probe_results_record
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import T0, make_probe, outcome, seconds


def _exact(values: list[float], q: float) -> float:
    return float(np.quantile(values, q))


@pytest.mark.django_db
def test_rollup_percentiles_match_the_raw_rows_within_the_sketch_error():
    # given three probes of one service recording skewed latencies over ten minutes, in batches
    rng = random.Random(7)
    service = ServiceFactory()
    service.current_revision = RevisionFactory(service=service)
    service.save()
    probes = [make_probe(service) for _ in range(3)]
    for second in range(0, 600, 5):
        probe_results_record(
            outcomes=[
                outcome(p, at=T0 + seconds(second), latency_ms=rng.lognormvariate(3.5, 0.8))
                for p in probes
            ]
        )

    # when the 1 h chart reads the minute rollups
    [series] = latency_series(
        service_id=service.pk, time_range=RANGES["1h"], end=T0 + seconds(3600)
    )

    # then each minute's percentiles are within the sketch's 1 % of the raw rows
    assert len(series.points) == 11  # T0 is 5 s into a minute: ten minutes touch eleven
    for point in series.points:
        raw = list(
            ProbeResult.objects.filter(
                checked_at__gte=point.time, checked_at__lt=point.time + seconds(60)
            ).values_list("latency_ms", flat=True)
        )
        assert point.samples == len(raw)
        for q, estimate in ((0.5, point.p50), (0.95, point.p95), (0.99, point.p99)):
            exact = _exact(raw, q)
            assert abs(estimate - exact) <= sketch.RELATIVE_ACCURACY * exact + 1e-9, (
                point.time,
                q,
                estimate,
                exact,
            )
    # and the hour rollup holds the same totals as the minute rollups
    hour = ProbeRollupHour.objects.filter(probe=probes[0]).get()
    minutes = ProbeRollupMinute.objects.filter(probe=probes[0])
    assert hour.count == sum(m.count for m in minutes) == 120
    assert hour.sketch == sketch.merge(*(m.sketch for m in minutes))
    assert point.error == hour.latency_error == sketch.RELATIVE_ACCURACY
    assert hour.latency_min == min(m.latency_min for m in minutes)
    assert hour.latency_max == max(m.latency_max for m in minutes)


@pytest.mark.django_db
def test_failures_without_an_answer_count_against_uptime_but_not_latency():
    probe = make_probe(ServiceFactory())

    probe_results_record(
        outcomes=[
            outcome(probe, at=T0, latency_ms=20),
            outcome(
                probe,
                at=T0 + seconds(1),
                ok=False,
                status_code=None,
                latency_ms=5000,
                error_kind="timeout",
                error="no answer",
            ),
        ]
    )

    rollup = ProbeRollupMinute.objects.get()
    assert (rollup.count, rollup.ok_count) == (2, 1)
    assert sketch.total(rollup.sketch) == 1
    assert rollup.latency_max == 20


@pytest.mark.django_db
def test_a_chart_has_one_series_per_revision():
    service = ServiceFactory()
    old, new = RevisionFactory(service=service), RevisionFactory(service=service)
    probe = make_probe(service)
    probe_results_record(outcomes=[outcome(probe, at=T0, revision=old.name)])
    probe_results_record(outcomes=[outcome(probe, at=T0 + seconds(3600), revision=new.name)])

    series = latency_series(service_id=service.pk, time_range=RANGES["24h"], end=T0 + seconds(7200))

    assert [s.revision_name for s in series] == [old.name, new.name]


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent writers need PostgreSQL; SQLite serializes every writer by design",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_recorders_of_one_bucket_lose_no_counts():
    # given two workers recording different probes' results... and one probe's results twice
    service = ServiceFactory()
    probe = make_probe(service)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                probe_results_record(
                    outcomes=[outcome(probe, at=T0 + seconds(offset + i * 0.01), latency_ms=10)]
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then the shared minute and hour rows hold every result
    assert errors == []
    minute = ProbeRollupMinute.objects.get(probe=probe)
    assert minute.count == 100
    assert minute.sketch == {sketch.key_of(10): 100}
    assert ProbeRollupHour.objects.get(probe=probe).count == 100


@pytest.mark.django_db
def test_the_overview_reads_every_services_p95_points_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    # given two services with probes on two revisions each, and one without probes
    rng = random.Random(11)
    services = [ServiceFactory(), ServiceFactory(), ServiceFactory()]
    for service in services[:2]:
        for revision in (RevisionFactory(service=service), RevisionFactory(service=service)):
            service.current_revision = revision
            service.save()
            probe = make_probe(service)
            probe_results_record(
                outcomes=[
                    outcome(probe, at=T0 + seconds(s), latency_ms=rng.lognormvariate(3, 0.7))
                    for s in range(0, 300, 7)
                ]
            )

    # when the overview reads them all at once (hour steps: nothing sealed, three queries at most)
    with django_assert_max_num_queries(3):
        found = latency_p95_by_service(
            service_ids=[s.pk for s in services], time_range=RANGES["7d"], end=T0 + seconds(3600)
        )

    # then each service's points are those of its latency series, every revision together
    for service in services:
        expected = sorted(
            (point.time, point.p95)
            for series in latency_series(
                service_id=service.pk, time_range=RANGES["7d"], end=T0 + seconds(3600)
            )
            for point in series.points
        )
        assert found.get(service.pk, []) == expected
    assert len(found) == 2
    assert latency_p95_by_service(service_ids=[], time_range=RANGES["1h"], end=T0) == {}
