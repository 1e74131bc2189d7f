"""Deliveries reach a real receiver signed, are retried after 5xx and timeouts, not after a 4xx,
and pause a webhook that keeps failing."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from integrations import events
from integrations.models import Webhook, WebhookDelivery
from integrations.services.deliveries import (
    deliveries_send_due,
    delivery_redeliver,
    webhook_test_send,
)
from integrations.services.events import event_emit
from integrations.signing import signature_valid
from tests.factories import ServiceFactory

Status = WebhookDelivery.Status
pytestmark = pytest.mark.django_db(transaction=True)


def _later(minutes: int = 120):
    return timezone.now() + timedelta(minutes=minutes)


def test_it_delivers_an_event_signed_with_the_webhooks_secret(receiver, make_webhook):
    service = ServiceFactory(name="payments-api")
    _hook, secret = make_webhook()

    assert event_emit(kind=events.RUN_FAILED, service=service, payload={"run": {"id": 7}}) == 1
    report = deliveries_send_due()

    assert report.delivered == 1
    assert receiver.wait_for(1)
    got = receiver.requests[0]
    assert signature_valid(secret=secret, body=got.body, header=got.headers["Stageloop-Signature"])
    assert not signature_valid(
        secret="whsec_wrong", body=got.body, header=got.headers["Stageloop-Signature"]
    )
    body = json.loads(got.body)
    assert body["type"] == "run.failed" and got.headers["Stageloop-Event"] == "run.failed"
    assert body["service"] == {"id": service.pk, "name": "payments-api"}
    assert body["data"] == {"run": {"id": 7}}
    delivery = WebhookDelivery.objects.get()
    assert got.headers["Stageloop-Delivery"] == str(delivery.uuid)
    assert body["id"] == str(delivery.event_id)
    assert delivery.status == Status.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.response_excerpt == '{"ok": true}'
    assert delivery.response_ms is not None and delivery.body == got.body.decode()


def test_a_signature_older_than_five_minutes_is_refused_by_the_check(receiver, make_webhook):
    _hook, secret = make_webhook()
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()
    got = receiver.requests[0]
    header = got.headers["Stageloop-Signature"]
    assert not signature_valid(secret=secret, body=got.body, header=header, now=time.time() + 301)


def test_a_500_is_retried_with_backoff_and_then_delivered(receiver, make_webhook):
    make_webhook()
    receiver.plan = [500, 503]
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 25 <= wait <= 37  # 30 s plus up to a fifth of jitter
    assert deliveries_send_due().attempted == 0  # not due yet

    deliveries_send_due(now=_later())
    delivery.refresh_from_db()
    first_wait = wait
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert delivery.attempts == 2 and wait > first_wait  # 60 s: the backoff doubled

    deliveries_send_due(now=_later())
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 3
    assert len(receiver.requests) == 3
    assert Webhook.objects.get().consecutive_failures == 0


def test_a_hanging_receiver_is_cut_off_at_the_timeout_and_retried(settings, receiver, make_webhook):
    settings.WEBHOOKS_TIMEOUT = 1
    make_webhook()
    receiver.plan = [0]  # hangs
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    started = time.monotonic()
    deliveries_send_due()
    assert time.monotonic() - started < 5  # the send ended with its timeout, not the receiver

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.last_status_code is None
    assert "within 1 s" in delivery.error
    deliveries_send_due(now=_later())
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 2


def test_a_4xx_fails_without_a_retry(receiver, make_webhook):
    make_webhook()
    receiver.plan = [404]
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()
    deliveries_send_due(now=_later())

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.FAILED and delivery.attempts == 1
    assert delivery.next_attempt_at is None and "404" in delivery.error
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429])
def test_408_and_429_are_retried(receiver, make_webhook, status):
    make_webhook()
    receiver.plan = [status]
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()
    assert WebhookDelivery.objects.get().status == Status.PENDING


def test_it_gives_up_after_the_last_attempt(settings, receiver, make_webhook):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    make_webhook()
    receiver.plan = [500] * 5
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    for minutes in (0, 120, 240, 360):
        deliveries_send_due(now=_later(minutes))

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.GIVEN_UP and delivery.attempts == 3
    assert "Gave up after 3 attempts" in delivery.error
    assert len(receiver.requests) == 3


def test_a_connection_refused_is_retried(make_webhook, allow_private):
    _hook, _ = make_webhook(url="http://127.0.0.1:9/nothing-listens")
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and "Could not reach" in delivery.error


def test_it_pauses_a_webhook_after_n_failures_in_a_row_and_emails_its_creator(
    settings, receiver, make_webhook, manager
):
    settings.WEBHOOKS_PAUSE_AFTER = 3
    manager.email = "mona@example.com"
    manager.save()
    hook, _ = make_webhook(user=manager)
    receiver.plan = [410] * 5
    for _ in range(3):
        event_emit(kind=events.RUN_FAILED, service=None, payload={})
        deliveries_send_due()

    hook.refresh_from_db()
    assert not hook.active and hook.consecutive_failures == 3
    assert "Paused after 3 failed deliveries in a row" in hook.paused_reason
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mona@example.com"]
    assert hook.secret not in mail.outbox[0].body
    # Paused: new events make no deliveries.
    assert event_emit(kind=events.RUN_FAILED, service=None, payload={}) == 0


def test_a_success_resets_the_failure_streak(settings, receiver, make_webhook):
    settings.WEBHOOKS_PAUSE_AFTER = 3
    hook, _ = make_webhook()
    receiver.plan = [410, 410, 200, 410, 410]
    for _ in range(5):
        event_emit(kind=events.RUN_FAILED, service=None, payload={})
        deliveries_send_due()
    hook.refresh_from_db()
    assert hook.active and hook.consecutive_failures == 2


def test_redeliver_sends_the_same_body_as_a_new_delivery(receiver, make_webhook):
    _hook, secret = make_webhook()
    receiver.plan = [404]
    event_emit(kind=events.RUN_FAILED, service=None, payload={"run": {"id": 1}})
    deliveries_send_due()
    first = WebhookDelivery.objects.get()

    again = delivery_redeliver(delivery=first)
    deliveries_send_due()

    again.refresh_from_db()
    assert again.status == Status.DELIVERED and again.redelivery_of == first
    assert again.event_id == first.event_id and again.uuid != first.uuid
    assert receiver.requests[1].body == receiver.requests[0].body
    assert receiver.requests[1].headers["Stageloop-Delivery"] == str(again.uuid)
    assert signature_valid(
        secret=secret,
        body=receiver.requests[1].body,
        header=receiver.requests[1].headers["Stageloop-Signature"],
    )


def test_the_test_event_reaches_even_a_paused_webhook(receiver, make_webhook):
    hook, _ = make_webhook(kinds=[events.INCIDENT_OPENED])
    Webhook.objects.filter(pk=hook.pk).update(active=False)
    webhook_test_send(webhook=hook)
    deliveries_send_due()
    assert receiver.wait_for(1)
    assert json.loads(receiver.requests[0].body)["type"] == "webhook.test"
    assert receiver.requests[0].headers["Stageloop-Event"] == "webhook.test"


def test_a_paused_webhooks_retries_wait_until_it_is_resumed(receiver, make_webhook):
    hook, _ = make_webhook()
    receiver.plan = [500]
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()
    Webhook.objects.filter(pk=hook.pk).update(active=False)
    assert deliveries_send_due(now=_later()).attempted == 0
    Webhook.objects.filter(pk=hook.pk).update(active=True)
    assert deliveries_send_due(now=_later()).delivered == 1


def test_a_delivery_claimed_by_a_worker_that_died_is_sent_again(receiver, make_webhook):
    from integrations.services.deliveries import deliveries_claim

    make_webhook()
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    assert len(deliveries_claim(now=timezone.now(), limit=10)) == 1
    assert deliveries_claim(now=timezone.now(), limit=10) == []  # claimed: nobody else takes it
    report = deliveries_send_due(now=_later(5))  # the lease ran out
    assert report.delivered == 1 and WebhookDelivery.objects.get().attempts == 2


def test_nothing_is_delivered_when_the_emitting_transaction_rolls_back(receiver, make_webhook):
    make_webhook()
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit(kind=events.RUN_FAILED, service=None, payload={})
        raise RuntimeError("the import failed")
    assert not WebhookDelivery.objects.exists()
    assert deliveries_send_due().attempted == 0
    assert receiver.requests == []
