"""Shared pieces of the notification tests: a real SMTP server (aiosmtpd) on a free port, the
Apprise URL of the real HTTP receiver, a stand-in for the network below requests (for services
with fixed hosts: the request Apprise would send is captured, nothing leaves the machine)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message

import pytest
import requests

from integrations.models import Channel, NotificationRule
from integrations.services.notifications import channel_create, rule_create


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Message] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def smtp_server(settings) -> Iterator[Mailbox]:
    """A real SMTP server on a free loopback port, and Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = box.host, box.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield box
    controller.stop()


def json_url(receiver, query: str = "") -> str:
    """The Apprise json:// URL of the real receiver (Apprise POSTs JSON to http://…)."""
    return receiver.url.replace("http://", "json://", 1) + (f"?{query}" if query else "")


@pytest.fixture
def json_channel(db, allow_private, receiver):
    def _make(name: str = "ci-json", query: str = "") -> Channel:
        return channel_create(name=name, kind="apprise", url=json_url(receiver, query))

    return _make


def route(channel: Channel, **kwargs) -> NotificationRule:
    return rule_create(kinds=kwargs.pop("kinds", []), channel=channel, **kwargs)


def message_of(received) -> dict:
    """What Apprise's json:// sent: title, message, type."""
    return json.loads(received.body)


@dataclass
class Captured:
    method: str
    url: str
    body: str
    headers: dict


@pytest.fixture
def no_network(monkeypatch) -> list[Captured]:
    """Replace the transport under requests: every request Apprise makes is captured and
    answered 200 (with a JSON body services expect); none reaches the network."""
    captured: list[Captured] = []

    def send(self, request, **kwargs):
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        captured.append(Captured(request.method, request.url, body, dict(request.headers)))
        response = requests.Response()
        response.status_code = 200
        # Slack's incoming webhooks answer "ok"; the others a JSON body.
        slack = "hooks.slack.com" in request.url
        response._content = b"ok" if slack else b'{"ok": true, "result": {"message_id": 1}}'
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url, request
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return captured


class Hang:
    """A TCP server that accepts and never answers (a receiver that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def hanging() -> Iterator[Hang]:
    server = Hang()
    yield server
    server.close()
