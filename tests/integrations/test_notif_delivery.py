"""Notifications reach real local receivers: Apprise's json:// and form:// and ntfy:// on an HTTP
server started here, email on a real SMTP server; routed by event, service, severity and
owner; written in the emitting transaction; retried; cut off when a receiver hangs; folded into
digests."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from integrations import events
from integrations.models import NotificationDelivery
from integrations.payloads import EXAMPLES
from integrations.services.events import event_emit
from integrations.services.notification_sending import notifications_send_due
from integrations.services.notifications import (
    Owners,
    channel_create,
    notifications_digest,
    rule_create,
)
from tests.factories import ServiceFactory
from tests.integrations.notif_support import message_of, route

pytestmark = pytest.mark.django_db

RUN = {
    "run": {
        "id": 7,
        "url": "https://stageloop.example.com/runs/7/",
        "status": "failed",
        "suite": {"id": 1, "name": "e2e"},
        "revision": None,
        "total": 10,
        "passed": 8,
        "failed": 2,
        "errors": 0,
        "skipped": 0,
        "error": "",
        "finished_at": None,
    }
}
Status = NotificationDelivery.Status


def _emit(service=None, kind=events.RUN_FAILED, **kwargs) -> None:
    event_emit(kind=kind, service=service, payload=kwargs.pop("payload", RUN), **kwargs)


def test_it_sends_one_line_and_the_evidence_link_to_a_json_receiver(json_channel, receiver):
    route(json_channel())
    payments = ServiceFactory(name="payments")

    _emit(payments)
    report = notifications_send_due()

    assert report.delivered == 1 and receiver.wait_for(1)
    sent = message_of(receiver.requests[0])
    assert sent["title"] == "[Stageloop] run.failed — payments"
    assert sent["message"] == (
        "payments: run #7 of e2e failed (2 failed, 0 errors of 10) "
        "https://stageloop.example.com/runs/7/"
    )
    assert "\n" not in sent["message"]
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.DELIVERED and delivery.error == ""


def test_form_and_ntfy_urls_reach_the_local_receiver_too(allow_private, receiver):
    port_path = receiver.url.removeprefix("http://")  # 127.0.0.1:port/hooks
    route(channel_create(name="form", kind="apprise", url=f"form://{port_path}"))
    host_port = port_path.split("/", 1)[0]
    route(channel_create(name="ntfy", kind="apprise", url=f"ntfy://{host_port}/deploys"))

    _emit(ServiceFactory(name="payments"))
    assert notifications_send_due().delivered == 2 and receiver.wait_for(2)

    by_path = {r.path: r for r in receiver.requests}
    form = parse_qs(by_path["/hooks"].body.decode())
    assert form["message"][0].startswith("payments: run #7 of e2e failed")
    ntfy = by_path.get("/") or by_path.get("/deploys")
    assert ntfy is not None and b"payments: run #7 of e2e failed" in ntfy.body


def test_email_goes_through_a_real_smtp_server(db, smtp_server):
    route(channel_create(name="oncall", kind="email", emails="oncall@example.com"))

    _emit(ServiceFactory(name="payments"))
    assert notifications_send_due().delivered == 1 and smtp_server.wait_for(1)

    [mail] = smtp_server.messages
    assert mail["To"] == "oncall@example.com"
    assert mail["Subject"] == "[Stageloop] run.failed — payments"
    body = mail.get_content()
    assert "payments: run #7 of e2e failed" in body
    assert "https://stageloop.example.com/runs/7/" in body


def test_a_subscription_to_my_email_goes_to_my_address(db, smtp_server, viewer):
    viewer.email = "vera@example.com"
    viewer.save()
    rule_create(kinds=[events.RUN_FAILED], subscriber=viewer)

    _emit(ServiceFactory())
    notifications_send_due()

    assert smtp_server.wait_for(1)
    assert smtp_server.messages[0]["To"] == "vera@example.com"


def test_a_subscription_without_an_email_or_channel_is_refused(db, viewer):
    from integrations.services.notifications import NotificationInvalid

    with pytest.raises(NotificationInvalid, match="no email address"):
        rule_create(kinds=[], subscriber=viewer)


def test_rules_route_by_event_service_and_severity(json_channel):
    payments, search = ServiceFactory(name="payments"), ServiceFactory(name="search")
    incidents = route(json_channel("incidents"), kinds=[events.INCIDENT_OPENED])
    of_search = route(json_channel("search"), service=search)
    critical = route(json_channel("critical"), min_severity=events.CRITICAL)
    everything = route(json_channel("all"))

    _emit(payments)  # run.failed: a warning

    wrote = set(NotificationDelivery.objects.values_list("rule_id", flat=True))
    assert wrote == {everything.pk}
    _emit(payments, kind=events.GATE_FAILED, payload=EXAMPLES[events.GATE_FAILED])
    wrote = list(NotificationDelivery.objects.values_list("rule_id", flat=True))
    assert sorted(wrote) == sorted([everything.pk, everything.pk, critical.pk])
    assert incidents.pk not in wrote and of_search.pk not in wrote


def test_rules_route_by_owner_user_or_team(json_channel, viewer, operator):
    team = Group.objects.create(name="payments-team")
    operator.groups.add(team)
    ana_rule = route(json_channel("ana"), owner_user=viewer)
    team_rule = route(json_channel("team"), owner_team=team)
    service = ServiceFactory()

    _emit(service, owners=Owners.of(users=[viewer.pk]))
    assert list(NotificationDelivery.objects.values_list("rule_id", flat=True)) == [ana_rule.pk]

    NotificationDelivery.objects.all().delete()
    _emit(service, owners=lambda: Owners.of(users=[operator.pk]))  # a member of the team
    assert list(NotificationDelivery.objects.values_list("rule_id", flat=True)) == [team_rule.pk]

    NotificationDelivery.objects.all().delete()
    _emit(service)  # nobody owns it: owner rules stay silent
    assert not NotificationDelivery.objects.exists()


def test_one_target_gets_one_message_per_event_however_many_rules_want_it(json_channel):
    channel = json_channel()
    route(channel)
    route(channel, kinds=[events.RUN_FAILED], digest="hourly")

    _emit(ServiceFactory())

    [delivery] = NotificationDelivery.objects.all()
    assert delivery.status == Status.PENDING  # at once wins over the digest


def test_nothing_is_written_or_sent_when_the_emitting_transaction_rolls_back(
    json_channel, receiver, django_capture_on_commit_callbacks
):
    route(json_channel())
    service = ServiceFactory()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _emit(service)
        assert NotificationDelivery.objects.count() == 1
        raise RuntimeError("the write failed")

    assert not NotificationDelivery.objects.exists()
    assert callbacks == []  # no wake-up of the sender either
    assert notifications_send_due().attempted == 0 and receiver.requests == []


def test_a_failing_receiver_is_retried_then_given_up_with_the_error_recorded(
    json_channel, receiver, settings
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    receiver.plan = [500, 503]
    route(json_channel())
    _emit(ServiceFactory())

    assert notifications_send_due().retrying == 1
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.next_attempt_at > timezone.now()
    assert "500" in delivery.error

    later = timezone.now() + timedelta(hours=1)
    assert notifications_send_due(now=later).failed == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.GIVEN_UP and "Gave up after 2 attempts" in delivery.error
    assert len(receiver.requests) == 2


def test_a_hanging_receiver_never_holds_the_worker_past_its_timeout(
    db, allow_private, hanging, settings
):
    settings.NOTIFICATIONS_TIMEOUT = 1
    channel = channel_create(name="hang", kind="apprise", url=f"json://127.0.0.1:{hanging.port}/x")
    route(channel)
    _emit(ServiceFactory())

    started = time.monotonic()
    report = notifications_send_due()
    took = time.monotonic() - started

    assert report.retrying == 1
    assert took < settings.NOTIFICATIONS_TIMEOUT + 2.5  # the deadline, not the receiver, decides
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.error


def test_a_digest_rule_holds_events_and_the_beat_sends_one_message(json_channel, receiver):
    route(json_channel(), digest="hourly")
    service = ServiceFactory(name="payments")
    for _ in range(3):
        _emit(service)

    assert notifications_send_due().attempted == 0  # held, nothing sent yet
    assert notifications_digest() == 0  # the hour is not over
    assert notifications_digest(now=timezone.now() + timedelta(hours=1, minutes=1)) == 1
    assert notifications_send_due().delivered == 1 and receiver.wait_for(1)

    sent = message_of(receiver.requests[0])
    assert sent["title"] == "[Stageloop] digest: 3 events"
    lines = sent["message"].splitlines()
    assert len(lines) == 3 and all(line.startswith("- payments: run #7") for line in lines)
    assert NotificationDelivery.objects.filter(status=Status.DIGESTED).count() == 3
    # A second fold finds nothing left: each held message goes out once.
    assert notifications_digest(now=timezone.now() + timedelta(hours=2)) == 0


def test_a_daily_digest_is_due_at_the_digest_hour(db, settings):
    from integrations.services.notifications import digest_due

    settings.NOTIFICATIONS_DIGEST_HOUR = 8
    now = timezone.now().replace(hour=9, minute=30)
    due = digest_due(now=now, digest="daily")
    assert (due.hour, due.minute) == (8, 0) and due.date() == (now + timedelta(days=1)).date()
    assert digest_due(now=now, digest="hourly") == now.replace(
        minute=0, second=0, microsecond=0
    ) + (timedelta(hours=1))


def test_webhooks_can_subscribe_to_the_new_events(make_webhook):
    hook, _ = make_webhook(kinds=[events.TEST_QUARANTINED])
    event_emit(kind=events.TEST_QUARANTINED, service=ServiceFactory(), payload={"test": {"id": 1}})
    [delivery] = hook.deliveries.all()
    assert json.loads(delivery.body)["type"] == "test.quarantined"


def test_a_malformed_event_still_notifies_with_its_kind_and_never_fails_the_write(json_channel):
    route(json_channel())
    _emit(ServiceFactory(name="payments"), payload={"unexpected": True})

    delivery = NotificationDelivery.objects.get()
    assert delivery.text == "payments: run.failed"


@pytest.mark.parametrize("kind", sorted(events.KINDS))
def test_every_event_kind_has_a_one_line_message_with_a_link(kind):
    from integrations.messages import message_for

    message = message_for(kind=kind, service="payments", data=EXAMPLES[kind])
    assert message.line.startswith("payments: ") and "\n" not in message.line
    assert message.line != f"payments: {kind}"  # its own sentence, not the fallback
    assert message.link.startswith("https://stageloop.example.com/")


def test_a_mattermost_url_reaches_the_local_receiver_as_mattermost_would_get_it(
    allow_private, receiver
):
    host_port = receiver.url.removeprefix("http://").split("/", 1)[0]
    route(channel_create(name="mattermost", kind="apprise", url=f"mmost://{host_port}/tok3n"))

    _emit(ServiceFactory(name="payments"))
    assert notifications_send_due().delivered == 1 and receiver.wait_for(1)

    [request] = receiver.requests
    assert request.path == "/hooks/tok3n"  # Mattermost's incoming-webhook path
    text = json.loads(request.body)["text"]
    assert "payments: run #7 of e2e failed" in text
    assert "https://stageloop.example.com/runs/7/" in text


def test_a_matrix_webhook_url_reaches_the_local_receiver_as_the_bridge_would_get_it(
    allow_private, receiver
):
    host_port = receiver.url.removeprefix("http://").split("/", 1)[0]
    url = f"matrix://stageloop:tok3n@{host_port}/?mode=matrix"
    route(channel_create(name="matrix", kind="apprise", url=url))

    _emit(ServiceFactory(name="payments"))
    assert notifications_send_due().delivered == 1 and receiver.wait_for(1)

    [request] = receiver.requests
    assert request.path == "/api/v1/matrix/hook/tok3n"  # the Matrix webhook bridge's path
    assert b"payments: run #7 of e2e failed" in request.body
