"""A real Celery worker on Redis delivers an event end to end: emitted in a transaction, sent on
commit, signed, received."""

from __future__ import annotations

import json
import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction

from dashboard.celery import app
from integrations import events
from integrations.models import WebhookDelivery
from integrations.services.events import event_emit
from integrations.signing import signature_valid
from tests.factories import ServiceFactory

REQUIRE = os.environ.get("STAGELOOP_REQUIRE_SERVICES") == "1"


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis") and not REQUIRE,
    reason="CELERY_BROKER_URL is not Redis here; .ci/run sets it and this test then runs",
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_delivers_an_event_emitted_in_a_transaction(receiver, make_webhook):
    service = ServiceFactory(name="payments-api")
    _hook, secret = make_webhook(service=service)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            event_emit(kind=events.RUN_FAILED, service=service, payload={"run": {"id": 3}})
        assert receiver.wait_for(1, timeout=20), "the worker never delivered the event"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and WebhookDelivery.objects.get().status != "delivered":
            time.sleep(0.1)

    got = receiver.requests[0]
    assert signature_valid(secret=secret, body=got.body, header=got.headers["Stageloop-Signature"])
    assert json.loads(got.body)["data"] == {"run": {"id": 3}}
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
