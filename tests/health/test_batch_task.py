"""Probe outcomes end to end: Probe rows → probes_run_batch task → results, rollups, counters."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dashboard.celery import app
from health.models import ProbeResult, ProbeRollupHour, ProbeRollupMinute
from health.tasks import probes_dispatch, probes_run_batch
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.conftest import REVISION
from tests.health.helpers import make_probe

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(server):
    service = ServiceFactory(base_url=server.base_url)
    service.current_revision = RevisionFactory(service=service, name="web-00041-abc")
    service.save()
    return service


def test_it_records_every_error_kind_from_a_real_server(service, server, closed_port):
    # given probes that meet each kind of answer
    probes = {
        "ok": make_probe(service, path="/ok"),
        "wrong_status": make_probe(service, path="/status/503"),
        "too_slow": make_probe(service, path="/slow?ms=150", latency_threshold_ms=50),
        "timeout": make_probe(service, path="/hang", timeout_seconds=0.3),
        "body": make_probe(service, path="/body", body_contains="all systems down"),
        "json": make_probe(service, path="/json", json_field="status", json_value="ok"),
        "connection_refused": make_probe(service, url=f"http://127.0.0.1:{closed_port}/x"),
    }
    hit = RevisionFactory(service=service, name=REVISION)

    # when the batch task probes them
    recorded = probes_run_batch([p.pk for p in probes.values()])

    # then every probe has one result with the right kind, revision and counters
    assert recorded == len(probes)
    results = {r.probe_id: r for r in ProbeResult.objects.all()}
    for kind, probe in probes.items():
        result = results[probe.pk]
        expected_kind = "" if kind in {"ok", "json"} else kind
        assert result.error_kind == expected_kind, (kind, result.error)
        assert result.ok is (expected_kind == "")
        probe.refresh_from_db()
        assert (probe.consecutive_successes, probe.consecutive_failures) == (
            (1, 0) if result.ok else (0, 1)
        )
    # the /ok route names its revision in a header; the others hit the current revision
    assert results[probes["ok"].pk].revision_id == hit.pk
    assert results[probes["json"].pk].revision_id == service.current_revision_id
    assert results[probes["timeout"].pk].latency_ms >= 300
    assert "503" in results[probes["wrong_status"].pk].error
    # and both rollups count every result once
    for model in (ProbeRollupMinute, ProbeRollupHour):
        assert sum(model.objects.values_list("count", flat=True)) == len(probes)


def test_it_skips_probes_of_a_service_with_nothing_to_check(db):
    service = ServiceFactory(base_url="")
    probe = make_probe(service, path="/healthz")

    assert probes_run_batch([probe.pk]) == 0
    assert not ProbeResult.objects.exists()


@pytest.fixture
def eager_celery():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_dispatch_claims_due_probes_and_records_them_with_their_due_time(service, eager_celery):
    # given two probes due now and one due in an hour
    now = timezone.now()
    due = [make_probe(service, path="/ok", next_probe_at=now) for _ in range(2)]
    later = make_probe(service, path="/ok", next_probe_at=now + timezone.timedelta(hours=1))

    # when the beat tick runs (eagerly, so the batch runs inline)
    dispatched = probes_dispatch()

    # then only the due probes were probed, each once, with its due time and a small lag
    assert dispatched == 2
    results = list(ProbeResult.objects.order_by("probe_id"))
    assert [r.probe_id for r in results] == [p.pk for p in due]
    for result in results:
        assert result.due_at == now
        assert 0 <= (result.checked_at - result.due_at).total_seconds() < 5
    for probe in due:
        probe.refresh_from_db()
        assert probe.next_probe_at == now + timezone.timedelta(seconds=10)
    later.refresh_from_db()
    assert later.next_probe_at == now + timezone.timedelta(hours=1)
