"""Apprise's matrix:// in its login-then-send mode against a fake homeserver on loopback: the
channel logs in with its user and password, joins the room and sends the message there; the
password reaches the homeserver's login only, never a page, a record or a log line of ours."""

from __future__ import annotations

import html
import logging

import pytest
from django.urls import reverse

from integrations import events
from integrations.models import Channel, NotificationDelivery
from integrations.services.events import event_emit
from integrations.services.notification_sending import notifications_send_due
from integrations.services.notifications import channel_create
from tests.factories import ServiceFactory
from tests.integrations.matrix_server import (
    ACCESS_TOKEN,
    API,
    PASSWORD,
    ROOM_ID,
    USER,
    homeserver,  # noqa: F401 (fixture)
)
from tests.integrations.notif_support import route
from tests.integrations.test_notif_delivery import RUN

pytestmark = pytest.mark.django_db
Status = NotificationDelivery.Status


def _channel(server, password: str = PASSWORD) -> Channel:
    url = f"matrix://{USER}:{password}@{server.host_port}/%23alerts"
    return channel_create(name="matrix", kind="apprise", url=url)


def _records_and_logs(caplog) -> str:
    """Every record a send leaves (channels, deliveries) and every log line, as one text."""
    rows = [
        *Channel.objects.values_list("url_masked", "name"),
        *NotificationDelivery.objects.values_list("title", "text", "link", "error", "email"),
    ]
    lines = [record.getMessage() for record in caplog.records]
    return "\n".join(["\n".join(map(str, row)) for row in rows] + lines)


def test_a_matrix_channel_logs_in_joins_the_room_and_sends_the_message(
    allow_private,
    homeserver,  # noqa: F811 (the fixture imported above)
    caplog,
):
    caplog.set_level(logging.DEBUG)
    route(_channel(homeserver))

    event_emit(kind=events.RUN_FAILED, service=ServiceFactory(name="payments"), payload=RUN)
    assert notifications_send_due().delivered == 1 and homeserver.wait_for_message()

    login, *after = homeserver.calls
    assert (login.method, login.path) == ("POST", f"{API}/login")
    assert login.body["identifier"] == {"type": "m.id.user", "user": USER}
    assert login.body["password"] == PASSWORD
    assert all(call.authorization == f"Bearer {ACCESS_TOKEN}" for call in after)
    assert f"{API}/join/#alerts:localhost" in homeserver.paths("POST")
    [message] = homeserver.messages
    assert "payments: run #7 of e2e failed" in message["body"]
    assert "https://stageloop.example.com/runs/7/" in message["body"]
    sent = [p for p in homeserver.paths("PUT") if p.startswith(f"{API}/rooms/{ROOM_ID}/send/")]
    assert len(sent) == 1

    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.DELIVERED and delivery.error == ""
    seen = _records_and_logs(caplog)
    assert PASSWORD not in seen and ACCESS_TOKEN not in seen


def test_a_refused_login_fails_the_delivery_without_the_password_anywhere(
    allow_private,
    homeserver,  # noqa: F811
    caplog,
    login,
    manager,
):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Matr1x-Passw0rd"
    channel = _channel(homeserver, password=wrong)
    route(channel)

    event_emit(kind=events.RUN_FAILED, service=ServiceFactory(name="payments"), payload=RUN)
    report = notifications_send_due()

    assert report.delivered == 0
    # Apprise tries to register the user after a refused login; nothing joined or sent.
    assert homeserver.paths()[0] == f"{API}/login"
    assert set(homeserver.paths()) <= {f"{API}/login", f"{API}/register"}
    assert homeserver.messages == []
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1  # tried again later
    assert delivery.error
    pages = [
        html.unescape(login(manager).get(reverse(name, args=args)).content.decode())
        for name, args in (("notification-list", []), ("channel-edit", [channel.pk]))
    ]
    seen = _records_and_logs(caplog) + "\n".join(pages)
    assert wrong not in seen and channel.url_masked in pages[0]
