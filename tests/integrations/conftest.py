"""A real HTTP receiver on 127.0.0.1 for webhook tests, and webhooks pointing at it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations import events
from integrations.models import Webhook
from integrations.services.webhooks import webhook_create


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next planned status (200 once the plan is spent); a status of
    0 hangs, holding the connection open until the test ends."""

    url: str = ""
    plan: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    answer: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = state.plan.pop(0) if state.plan else 200
            if status == 0:
                state.release.wait(30)
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.answer)))
            for key, value in state.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(state.answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    """The admin's switch on: the receiver lives on loopback."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    return settings


@pytest.fixture
def make_webhook(db, allow_private, receiver):
    def _make(
        *, kinds=tuple(events.KINDS), service=None, user=None, url=None
    ) -> tuple[Webhook, str]:
        return webhook_create(
            name="ci", url=url or receiver.url, kinds=list(kinds), service=service, user=user
        )

    return _make


# Fixtures of the notification tests (a real SMTP server, json:// channels, no network below
# requests, a hanging receiver).
from tests.integrations.notif_support import (  # noqa: E402, F401
    hanging,
    json_channel,
    no_network,
    smtp_server,
)
