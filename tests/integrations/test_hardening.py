"""Webhook hardening: a receiver's Retry-After sets the next attempt (capped), old deliveries are
pruned but each webhook keeps its latest, a secret is rotated with a grace period, and httpx's own
log lines (full URLs, tokens in query strings) stay out of the logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations import events
from integrations.models import Webhook, WebhookDelivery
from integrations.retry_after import retry_after_seconds
from integrations.services.deliveries import deliveries_prune, deliveries_send_due
from integrations.services.events import event_emit
from integrations.services.webhooks import webhook_secret_rotate
from integrations.signing import signature_valid

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_of(delivery: WebhookDelivery) -> float:
    return (delivery.next_attempt_at - timezone.now()).total_seconds()


# -- Retry-After -------------------------------------------------------------------------------


def test_a_429_with_retry_after_in_seconds_is_tried_again_when_it_asks(receiver, make_webhook):
    make_webhook()
    receiver.plan, receiver.headers = [429], {"Retry-After": "600"}
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    deliveries_send_due()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code == 429
    assert 595 <= _wait_of(delivery) <= 601  # as asked, not the 30 s backoff
    assert delivery.error == "The receiver answered 429 and asked to wait 600 s; Stageloop does."


def test_a_503_with_retry_after_as_an_http_date_is_tried_again_then(receiver, make_webhook):
    make_webhook()
    when = timezone.now() + timedelta(minutes=20)
    receiver.plan, receiver.headers = [503], {"Retry-After": format_datetime(when, usegmt=True)}
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    deliveries_send_due()

    assert 1195 <= _wait_of(WebhookDelivery.objects.get()) <= 1201


def test_a_retry_after_longer_than_the_cap_waits_the_cap(receiver, make_webhook, settings):
    settings.WEBHOOKS_RETRY_AFTER_MAX_SECONDS = 900
    make_webhook()
    receiver.plan, receiver.headers = [429], {"Retry-After": "86400"}
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    deliveries_send_due()

    assert 895 <= _wait_of(WebhookDelivery.objects.get()) <= 901


def test_an_unreadable_retry_after_falls_back_to_the_backoff(receiver, make_webhook):
    make_webhook()
    receiver.plan, receiver.headers = [503], {"Retry-After": "soon, maybe"}
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    deliveries_send_due()

    assert 25 <= _wait_of(WebhookDelivery.objects.get()) <= 37  # 30 s plus jitter


def test_retry_after_reads_seconds_and_http_dates_only():
    now = 1_700_000_000.0
    assert retry_after_seconds("120", now=now) == 120.0
    assert retry_after_seconds("Wed, 15 Nov 2023 00:13:20 GMT", now=now) == 7200.0
    assert retry_after_seconds("Tue, 14 Nov 2023 20:00:00 GMT", now=now) == 0.0  # past
    for bad in (None, "", "-5", "1.5", "tomorrow", "Tue, 14 Nov 2023 22:15:20"):
        assert retry_after_seconds(bad, now=now) is None, bad


# -- pruning ---------------------------------------------------------------------------------


def _deliveries(hook: Webhook, count: int, *, days_ago: int, status: str = "delivered") -> None:
    now = timezone.now()
    for i in range(count):
        row = WebhookDelivery.objects.create(
            webhook=hook,
            event_id="00000000-0000-0000-0000-000000000000",
            kind=events.RUN_FAILED,
            body="{}",
            status=status,
            next_attempt_at=now if status == "pending" else None,
        )
        created = now - timedelta(days=days_ago, minutes=i)
        WebhookDelivery.objects.filter(pk=row.pk).update(created_at=created)


def test_the_prune_deletes_old_finished_deliveries_but_keeps_each_webhooks_latest(
    make_webhook, settings
):
    settings.WEBHOOKS_DELIVERIES_KEEP_DAYS, settings.WEBHOOKS_DELIVERIES_KEEP_LATEST = 30, 3
    busy, _ = make_webhook()
    quiet, _ = make_webhook()
    _deliveries(busy, 5, days_ago=1)
    _deliveries(busy, 4, days_ago=40)
    _deliveries(busy, 1, days_ago=50, status="pending")  # still to send: never pruned
    _deliveries(quiet, 2, days_ago=60)  # old, but its latest

    report = deliveries_prune()

    assert report.deliveries == 4
    assert busy.deliveries.count() == 6 and quiet.deliveries.count() == 2
    assert not busy.deliveries.filter(
        created_at__lt=timezone.now() - timedelta(days=30), status="delivered"
    ).exists()


def test_the_prune_keeps_everything_when_days_is_zero(make_webhook, settings):
    settings.WEBHOOKS_DELIVERIES_KEEP_DAYS, settings.WEBHOOKS_DELIVERIES_KEEP_LATEST = 0, 0
    hook, _ = make_webhook()
    _deliveries(hook, 3, days_ago=400)

    assert deliveries_prune().deliveries == 0 and hook.deliveries.count() == 3


def test_the_prune_is_on_the_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["integrations-prune"]
    assert entry["task"] == "integrations.tasks.integrations_prune"


# -- secret rotation -------------------------------------------------------------------------


def test_a_rotated_secret_signs_with_both_secrets_during_the_grace_then_with_the_new_only(
    receiver, make_webhook, settings
):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 24
    hook, old = make_webhook()

    new = webhook_secret_rotate(webhook=hook)
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()

    assert new != old and new.startswith("whsec_")
    got = receiver.requests[0]
    header = got.headers["Stageloop-Signature"]
    assert header.count("v1=") == 2
    assert signature_valid(secret=new, body=got.body, header=header)
    assert signature_valid(secret=old, body=got.body, header=header)

    # The grace ends: the prune forgets the old secret, and it signs no more.
    Webhook.objects.filter(pk=hook.pk).update(
        old_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert deliveries_prune().secrets == 1
    assert Webhook.objects.get(pk=hook.pk).old_secret == ""
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()
    later = receiver.requests[1]
    header = later.headers["Stageloop-Signature"]
    assert header.count("v1=") == 1
    assert signature_valid(secret=new, body=later.body, header=header)
    assert not signature_valid(secret=old, body=later.body, header=header)


def test_with_no_grace_the_old_secret_stops_at_once(receiver, make_webhook, settings):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 0
    hook, old = make_webhook()

    new = webhook_secret_rotate(webhook=hook)
    event_emit(kind=events.RUN_FAILED, service=None, payload={})
    deliveries_send_due()

    got = receiver.requests[0]
    header = got.headers["Stageloop-Signature"]
    assert signature_valid(secret=new, body=got.body, header=header)
    assert not signature_valid(secret=old, body=got.body, header=header)


def test_the_rotate_button_shows_the_new_secret_once(login, manager, viewer, make_webhook):
    hook, old = make_webhook()
    url = reverse("webhook-rotate-secret", args=[hook.pk])
    assert login(viewer).post(url).status_code == 403
    assert Webhook.objects.get(pk=hook.pk).secret == old

    client = login(manager)
    page = client.post(url).content.decode()

    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in page
    assert "copy it now, it is not shown again" in page
    assert "The previous secret signs too until" in page
    later = client.get(reverse("webhook-detail", args=[hook.pk])).content.decode()
    assert hook.secret not in later and old not in later and hook.secret_masked in later
    assert client.get(url).status_code == 405  # a POST only


# -- logs ------------------------------------------------------------------------------------


def test_httpx_log_lines_never_print_a_receivers_url_with_its_token(receiver, make_webhook, caplog):
    make_webhook(url=receiver.url + "?token=tok_SecretInTheQueryString")
    event_emit(kind=events.RUN_FAILED, service=None, payload={})

    with caplog.at_level(logging.DEBUG):
        report = deliveries_send_due()

    assert report.delivered == 1 and receiver.requests[0].path.endswith("SecretInTheQueryString")
    assert "tok_SecretInTheQueryString" not in caplog.text
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
