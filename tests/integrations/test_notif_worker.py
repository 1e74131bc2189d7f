"""A real Celery worker on Redis sends a notification end to end: emitted in a transaction,
woken on commit, received by a json:// receiver."""

from __future__ import annotations

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction

from dashboard.celery import app
from integrations import events
from integrations.models import NotificationDelivery
from integrations.services.events import event_emit
from tests.factories import ServiceFactory
from tests.integrations.notif_support import message_of, route

REQUIRE = os.environ.get("STAGELOOP_REQUIRE_SERVICES") == "1"


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis") and not REQUIRE,
    reason="CELERY_BROKER_URL is not Redis here; .ci/run sets it and this test then runs",
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_sends_a_notification_emitted_in_a_transaction(receiver, json_channel):
    service = ServiceFactory(name="payments-api")
    route(json_channel(), service=service)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            event_emit(
                kind=events.INCIDENT_CLOSED,
                service=service,
                payload={
                    "incident": {
                        "id": 4,
                        "url": "/services/payments-api/health/",
                        "probe": {"id": 1, "name": "health"},
                        "first_error": "",
                    }
                },
            )
        assert receiver.wait_for(1, timeout=20), "the worker never sent the notification"
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and NotificationDelivery.objects.get().status != NotificationDelivery.Status.DELIVERED
        ):
            time.sleep(0.1)

    sent = message_of(receiver.requests[0])
    assert sent["message"] == (
        "payments-api: incident closed on probe health /services/payments-api/health/"
    )
    assert NotificationDelivery.objects.get().status == NotificationDelivery.Status.DELIVERED
