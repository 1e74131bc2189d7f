"""A fake Matrix homeserver on 127.0.0.1 for Apprise's matrix:// login-then-send mode: just the
client-server API endpoints Apprise calls (login, join a room, send a message, log out), each
checking what a real homeserver would (the password at login, the access token after)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest

from tests.integrations.http_server import Reply, Request, http_server, wait_until

API = "/_matrix/client/v3"
USER, PASSWORD = "stageloop", "Matr1x-Passw0rd-Never-Logged"
ACCESS_TOKEN = "syt_c3RhZ2Vsb29w_FakeAccessTokenFromLogin"
ROOM_ID = "!AlertsRoom:localhost"


@dataclass
class Call:
    method: str
    path: str  # unquoted, without the query string
    authorization: str
    body: dict


def _json(status: int, body: dict) -> Reply:
    return Reply(status, json.dumps(body).encode())


@dataclass
class Homeserver:
    url: str = ""
    host_port: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # m.room.message contents sent

    def paths(self, method: str = "") -> list[str]:
        return [c.path for c in self.calls if not method or c.method == method]

    def wait_for_message(self, timeout: float = 10.0) -> bool:
        return wait_until(lambda: bool(self.messages), timeout)

    def reply(self, request: Request) -> Reply:
        call = Call(
            request.method,
            unquote(request.path.split("?", 1)[0]),
            request.headers.get("Authorization", ""),
            json.loads(request.body or b"{}"),
        )
        self.calls.append(call)
        path = call.path.removeprefix(API)
        if call.method == "POST" and path == "/login":
            who = call.body.get("identifier", {}).get("user")
            if (who, call.body.get("password")) != (USER, PASSWORD):
                return _json(403, {"errcode": "M_FORBIDDEN", "error": "Invalid password"})
            user = {"user_id": f"@{USER}:localhost", "device_id": "STAGELOOPDEV"}
            return _json(200, {"access_token": ACCESS_TOKEN, **user})
        if call.authorization != f"Bearer {ACCESS_TOKEN}":
            return _json(401, {"errcode": "M_MISSING_TOKEN", "error": "Missing token"})
        if call.method == "POST" and path.startswith("/join/"):
            return _json(200, {"room_id": ROOM_ID})
        if call.method == "PUT" and path.startswith(f"/rooms/{ROOM_ID}/send/m.room.message/"):
            self.messages.append(call.body)
            return _json(200, {"event_id": f"$event{len(self.messages)}"})
        if call.method == "POST" and path == "/logout":
            return _json(200, {})
        if call.method == "GET" and path == "/account/whoami":
            return _json(200, {"user_id": f"@{USER}:localhost", "device_id": "STAGELOOPDEV"})
        return _json(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})


@pytest.fixture
def homeserver() -> Iterator[Homeserver]:
    state = Homeserver()
    with http_server(state.reply) as url:
        state.url, state.host_port = url, url.removeprefix("http://")
        yield state
