"""Burn-rate alerts in simulated time, against hand-computed scenarios.

Every scenario starts after 6 h of clean checks (so the long windows are full), with trouble
from T0 on. Rollups of a minute are written once that minute is over, then the alerts are
evaluated at the next minute boundary: at ``T0 + k min`` a window of W minutes holds the W
finished minutes before it, ``k`` of them (at most W) in trouble. Budget of 99.9 %: 0.001.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from health.models import SloAlert
from health.services.slo_alerts import slo_alerts_evaluate
from integrations import events
from integrations.messages import message_for
from integrations.models import Webhook, WebhookDelivery
from tests.factories import ServiceFactory
from tests.health.slo_support import T0, minutes, probe_for, slo_for

pytestmark = pytest.mark.django_db

CLEAN_HISTORY = 360  # minutes: the 6-hour window is full of good checks before T0


def _open(severity: str) -> list[SloAlert]:
    return list(SloAlert.objects.filter(severity=severity, closed_at__isnull=True))


def _at(k: int):
    return T0 + timedelta(minutes=k)


@pytest.fixture
def hook(db) -> Webhook:
    return Webhook.objects.create(
        name="slo",
        url="https://hooks.example.com/slo",
        events=[events.SLO_ALERT_OPENED, events.SLO_ALERT_CLOSED],
        secret="s" * 32,
    )


def _kinds() -> list[tuple[str, str]]:
    return [
        (d.kind, json.loads(d.body)["data"]["slo_alert"]["severity"])
        for d in WebhookDelivery.objects.order_by("pk")
    ]


def test_a_total_outage_opens_the_fast_burn_alert_within_a_minute_and_recovery_closes_it(hook):
    # given 6 checks a minute (a 10-second probe), all failing from T0 on for 10 minutes
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.9)
    minutes(probe, start=_at(-CLEAN_HISTORY), count=CLEAN_HISTORY, per_minute=6)
    assert slo_alerts_evaluate(now=_at(0)).opened == []

    # when the first failing minute is over: 1 h holds 6 bad of 360 = 1.67 % → 16.7x ≥ 14.4;
    # 5 min holds 6 of 30 = 20 % → 200x
    minutes(probe, start=_at(0), count=1, per_minute=6, bad=6)
    result = slo_alerts_evaluate(now=_at(1))

    # then the critical alert opens at once; the warning (also firing) waits behind it
    assert [a.severity for a in result.opened] == ["critical"]
    (alert,) = _open("critical")
    assert alert.opened_at == _at(1)
    assert alert.long_burn == pytest.approx(6 / 360 / 0.001)
    assert alert.short_burn == pytest.approx(6 / 30 / 0.001)
    assert _open("warning") == []

    # the outage goes on until T0+10; the alert stays open, nothing new is raised
    for k in range(1, 10):
        minutes(probe, start=_at(k), count=1, per_minute=6, bad=6)
        assert slo_alerts_evaluate(now=_at(k + 1)).opened == []
    # recovered from T0+10: at T0+10+j the 5-min window holds 5-j bad minutes → 200(5-j)x
    for k in range(10, 14):
        minutes(probe, start=_at(k), count=1, per_minute=6)
        assert slo_alerts_evaluate(now=_at(k + 1)).closed == []
    assert len(_open("critical")) == 1
    minutes(probe, start=_at(14), count=1, per_minute=6)
    result = slo_alerts_evaluate(now=_at(15))

    # the short window is clean at T0+15: the critical alert closes, and the slow burn (6 h:
    # 60 bad of 2,160 = 27.8x; 30 min: 60 of 180 = 333x) raises its warning now
    assert [a.severity for a in result.closed] == ["critical"]
    assert SloAlert.objects.get(severity="critical").closed_at == _at(15)
    assert [a.severity for a in result.opened] == ["warning"]

    # the warning closes once the last bad minute (T0+9) left the 30-min window: at T0+40
    for k in range(15, 39):
        minutes(probe, start=_at(k), count=1, per_minute=6)
        assert slo_alerts_evaluate(now=_at(k + 1)).closed == []
    minutes(probe, start=_at(39), count=1, per_minute=6)
    assert [a.severity for a in slo_alerts_evaluate(now=_at(40)).closed] == ["warning"]
    assert SloAlert.objects.filter(closed_at__isnull=True).count() == 0

    # one notification event per open and per close, in order
    assert _kinds() == [
        (events.SLO_ALERT_OPENED, "critical"),
        (events.SLO_ALERT_CLOSED, "critical"),
        (events.SLO_ALERT_OPENED, "warning"),
        (events.SLO_ALERT_CLOSED, "warning"),
    ]


def test_a_constant_error_rate_of_1_5_percent_trips_the_fast_burn_only_after_58_minutes():
    # given 200 checks a minute, 3 failing (1.5 % → 15x the 0.1 % budget) from T0 on
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.9)
    minutes(probe, start=_at(-CLEAN_HISTORY), count=CLEAN_HISTORY, per_minute=200)

    # when k minutes are over, 1 h holds 3k bad of 12,000: 14.4x needs 3k ≥ 172.8, k ≥ 58;
    # the 5-min window is at 15x from k = 5 on
    written = 0
    for k in (1, 5, 30, 57):
        minutes(probe, start=_at(written), count=k - written, per_minute=200, bad=3)
        written = k
        assert slo_alerts_evaluate(now=_at(k)).opened == [], f"opened at T0+{k}"
    minutes(probe, start=_at(57), count=1, per_minute=200, bad=3)
    result = slo_alerts_evaluate(now=_at(58))

    # then the critical alert opens at T0+58, not before; no warning (6 h: 174 of 72,000 is 2.4x)
    assert [(a.severity, a.opened_at) for a in result.opened] == [("critical", _at(58))]
    assert result.opened[0].long_burn == pytest.approx(3 * 58 / 12000 / 0.001)


def test_a_slow_burn_raises_a_warning_only_and_closes_when_its_short_window_recovers():
    # given 1,000 checks a minute, 7 failing (0.7 % → 7x: above 6, below 14.4)
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.9)
    minutes(probe, start=_at(-CLEAN_HISTORY), count=CLEAN_HISTORY, per_minute=1000)

    # when k minutes are over, 6 h holds 7k bad of 360,000: 6x needs 7k ≥ 2,160, k ≥ 309
    minutes(probe, start=_at(0), count=308, per_minute=1000, bad=7)
    assert slo_alerts_evaluate(now=_at(308)).opened == []
    minutes(probe, start=_at(308), count=1, per_minute=1000, bad=7)
    result = slo_alerts_evaluate(now=_at(309))

    # then a warning opens at T0+309, and never a critical one (1 h burns at 7x)
    assert [(a.severity, a.opened_at) for a in result.opened] == [("warning", _at(309))]
    assert _open("critical") == []

    # recovered from T0+309: at T0+309+j the 30-min window holds 7(30-j) bad of 30,000;
    # below 6x (180) from j = 5 on, so it closes at T0+314 though 6 h still burns at 6x
    minutes(probe, start=_at(309), count=4, per_minute=1000)
    assert slo_alerts_evaluate(now=_at(313)).closed == []
    minutes(probe, start=_at(313), count=1, per_minute=1000)
    assert [(a.severity, a.closed_at) for a in slo_alerts_evaluate(now=_at(314)).closed] == [
        ("warning", _at(314))
    ]


def test_no_alert_without_data():
    # given an SLO whose service has a probe that never ran, and one without any probe
    service = ServiceFactory()
    probe_for(service)
    slo_for(service, objective=99.9)
    slo_for(ServiceFactory(), objective=99.0, kind="latency", latency_threshold_ms=300)

    # when the alerts are evaluated
    result = slo_alerts_evaluate(now=_at(0))

    # then nothing opens
    assert result.opened == [] and SloAlert.objects.count() == 0


def test_an_open_alert_closes_when_its_short_window_has_no_checks_left():
    # given a total outage that opened the critical alert, then the probe stopped (no checks)
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.9)
    minutes(probe, start=_at(-60), count=60, per_minute=6)
    minutes(probe, start=_at(0), count=5, per_minute=6, bad=6)
    assert [a.severity for a in slo_alerts_evaluate(now=_at(5)).opened] == ["critical"]

    # when 6 minutes pass without a single check, the 5-min window is empty
    result = slo_alerts_evaluate(now=_at(11))

    # then the critical alert closes (no events is no burn) and does not reopen; the slow-burn
    # warning it held back (30 min: 30 bad of 144) opens in its place
    assert [a.severity for a in result.closed] == ["critical"]
    assert [a.severity for a in result.opened] == ["warning"]
    assert slo_alerts_evaluate(now=_at(12)).opened == []


def test_a_latency_objective_burns_on_slow_responses_only():
    # given a 99 % latency objective (≤ 300 ms) and 100 responses a minute, 10 at 500 ms (10 %
    # slow → 10x: a slow burn), all checks successful
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.0, kind="latency", latency_threshold_ms=300)
    minutes(
        probe,
        start=_at(-CLEAN_HISTORY),
        count=CLEAN_HISTORY,
        per_minute=100,
        latencies={120.0: 100},
    )
    # 6 h: 10k slow of 36,000 ≥ 6 % needs k ≥ 216; the 1-hour window never reaches 14.4x
    minutes(probe, start=_at(0), count=215, per_minute=100, latencies={120.0: 90, 500.0: 10})
    assert slo_alerts_evaluate(now=_at(215)).opened == []
    minutes(probe, start=_at(215), count=1, per_minute=100, latencies={120.0: 90, 500.0: 10})

    # when evaluated once the 216th minute is over
    result = slo_alerts_evaluate(now=_at(216))

    # then the warning opens
    assert [a.severity for a in result.opened] == ["warning"]


def test_the_notification_message_is_one_line_with_a_link(hook, settings):
    # given a public URL and an alert that opened
    settings.PUBLIC_URL = "https://stageloop.example.com"
    service = ServiceFactory(name="payments")
    probe = probe_for(service)
    slo_for(service, objective=99.9, name="checkout availability")
    minutes(probe, start=_at(-60), count=60, per_minute=6)
    minutes(probe, start=_at(0), count=1, per_minute=6, bad=6)
    slo_alerts_evaluate(now=_at(1))

    # when the delivered event is turned into a notification message
    body = json.loads(WebhookDelivery.objects.get().body)
    message = message_for(kind=body["type"], service="payments", data=body["data"])

    # then it is one line naming the SLO and ends with the link to the SLO page
    assert "\n" not in message.text
    assert message.line.startswith("payments: fast-burn alert opened on SLO checkout availability")
    assert message.link == "https://stageloop.example.com/services/payments/slos/"


def test_the_beat_task_evaluates_every_minute_at_the_current_time(settings):
    # given the schedule, and an outage in the last minutes
    from health.tasks import slo_alerts_check

    entry = settings.CELERY_BEAT_SCHEDULE["slo-alerts-check"]
    assert entry["task"] == slo_alerts_check.name
    assert entry["schedule"] == timedelta(minutes=1)
    service = ServiceFactory()
    probe = probe_for(service)
    slo_for(service, objective=99.9)
    now = timezone.now().replace(second=0, microsecond=0)
    minutes(probe, start=now - timedelta(minutes=60), count=58, per_minute=6)
    minutes(probe, start=now - timedelta(minutes=2), count=2, per_minute=6, bad=6)

    # when the task runs
    result = slo_alerts_check()

    # then it opened the critical alert, once
    assert result == {"opened": 1, "closed": 0}
    assert slo_alerts_check() == {"opened": 0, "closed": 0}
