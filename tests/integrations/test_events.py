"""Events reach the webhooks that want them: by service and by event; and the places in runs and
health where a state becomes final emit them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from health.models import Probe
from health.services import probe_results_record
from integrations import events
from integrations.models import WebhookDelivery
from integrations.services.events import event_emit
from runs.models import GatePolicy, TestRun
from runs.services.gates import gate_evaluate
from runs.services.ingest import ReportFile, run_import
from tests.factories import RevisionFactory, ServiceFactory, SuiteFactory
from tests.health.helpers import outcome

pytestmark = pytest.mark.django_db

JUNIT_FAIL = b"""<testsuite name="e2e" tests="2"><testcase classname="a" name="ok"/>
<testcase classname="a" name="bad"><failure message="boom">boom</failure></testcase></testsuite>"""
JUNIT_PASS = b"""<testsuite name="e2e" tests="1"><testcase classname="a" name="ok"/></testsuite>"""


def _bodies(hook) -> list[dict]:
    return [json.loads(d.body) for d in WebhookDelivery.objects.filter(webhook=hook)]


def test_events_reach_webhooks_of_their_service_and_of_every_service_only(make_webhook):
    payments, search = ServiceFactory(name="payments"), ServiceFactory(name="search")
    everything, _ = make_webhook()
    of_payments, _ = make_webhook(service=payments)
    of_search, _ = make_webhook(service=search)
    incidents_only, _ = make_webhook(kinds=[events.INCIDENT_OPENED])

    assert event_emit(kind=events.RUN_FAILED, service=payments, payload={}) == 2

    assert len(_bodies(everything)) == 1 and len(_bodies(of_payments)) == 1
    assert _bodies(of_search) == [] and _bodies(incidents_only) == []


def test_an_imported_failed_run_emits_run_failed_and_a_passed_one_nothing(make_webhook):
    suite = SuiteFactory(name="e2e")
    hook, _ = make_webhook(kinds=[events.RUN_FAILED])

    run_import(suite=suite, files=[ReportFile(name="ok.xml", data=JUNIT_PASS)])
    assert _bodies(hook) == []
    run = run_import(suite=suite, files=[ReportFile(name="bad.xml", data=JUNIT_FAIL)]).run

    [body] = _bodies(hook)
    assert body["type"] == "run.failed"
    assert body["service"]["name"] == suite.service.name
    assert body["data"]["run"]["id"] == run.pk and body["data"]["run"]["status"] == "failed"
    assert body["data"]["run"]["failed"] == 1 and body["data"]["run"]["url"] == f"/runs/{run.pk}/"


def test_a_failed_gate_verdict_emits_gate_failed(make_webhook):
    revision = RevisionFactory()
    suite = SuiteFactory(service=revision.service)
    hook, _ = make_webhook(kinds=[events.GATE_FAILED])
    GatePolicy.objects.create(service=revision.service)
    run = run_import(
        suite=suite, revision=revision, files=[ReportFile(name="bad.xml", data=JUNIT_FAIL)]
    ).run
    verdict = gate_evaluate(run=TestRun.objects.get(pk=run.pk))

    assert verdict is not None and verdict.outcome == "fail"
    [body] = _bodies(hook)
    assert body["type"] == "gate.failed"
    assert body["data"]["verdict"]["id"] == verdict.pk
    assert body["data"]["revision"]["name"] == revision.name


def test_an_incident_opening_and_closing_emits_both_events(make_webhook):
    service = ServiceFactory()
    probe = Probe.objects.create(
        service=service,
        name="health",
        url="http://127.0.0.1:9/",
        failures_before_incident=2,
        successes_to_close=1,
    )
    hook, _ = make_webhook(kinds=[events.INCIDENT_OPENED, events.INCIDENT_CLOSED])
    now = timezone.now()
    probe_results_record(
        outcomes=[outcome(probe, at=now - timedelta(seconds=30 - i), ok=False) for i in range(2)]
    )
    probe_results_record(outcomes=[outcome(probe, at=now, ok=True)])

    kinds = [b["type"] for b in sorted(_bodies(hook), key=lambda b: b["created_at"])]
    assert kinds == ["incident.opened", "incident.closed"]
    assert _bodies(hook)[0]["data"]["incident"]["probe"]["name"] == "health"


def test_a_finished_rollback_emits_rollback_finished_and_a_promotion_nothing(make_webhook):
    from integrations.services.events import rollback_finished
    from runs.models import Deploy

    to = RevisionFactory()
    hook, _ = make_webhook(kinds=[events.ROLLBACK_FINISHED])
    rollback = Deploy.objects.create(
        service=to.service, revision=to, trigger=Deploy.Trigger.ROLLBACK, status="succeeded"
    )
    promote = Deploy.objects.create(
        service=to.service, revision=to, trigger=Deploy.Trigger.PROMOTE, status="succeeded"
    )
    rollback_finished(deploy_id=promote.pk)
    rollback_finished(deploy_id=rollback.pk)

    [body] = _bodies(hook)
    assert body["type"] == "rollback.finished"
    assert body["data"]["deploy"]["id"] == rollback.pk
    assert body["data"]["to_revision"]["name"] == to.name
