"""A real HTTP receiver on 127.0.0.1 for webhook tests, and webhooks pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from integrations import events
from integrations.models import Webhook
from integrations.services.webhooks import webhook_create
from tests.integrations.http_server import Reply, Request, http_server, wait_until


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
    answer: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return wait_until(lambda: len(self.requests) >= count, timeout)

    def reply(self, request: Request) -> Reply:
        self.requests.append(Received(request.path, request.headers, request.body))
        status = self.plan.pop(0) if self.plan else 200
        return Reply(status, self.answer, self.headers, hang=status == 0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    with http_server(state.reply) as url:
        state.url = f"{url}/hooks"
        yield state


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
