"""A fake Matrix homeserver on 127.0.0.1 for Apprise's matrix:// login-then-send mode: just the
client-server API endpoints Apprise calls (login, join a room, send a message, log out), each
checking what a real homeserver would (the password at login, the access token after)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

API = "/_matrix/client/v3"
USER, PASSWORD = "stageloop", "Matr1x-Passw0rd-Never-Logged"
ACCESS_TOKEN = "syt_c3RhZ2Vsb29w_FakeAccessTokenFromLogin"
ROOM_ID = "!AlertsRoom:localhost"


@dataclass
class Call:
    method: str
    path: str  # unquoted
    authorization: str
    body: dict


@dataclass
class Homeserver:
    url: str = ""
    host_port: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # m.room.message contents sent

    def paths(self, method: str = "") -> list[str]:
        return [c.path for c in self.calls if not method or c.method == method]

    def wait_for_message(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.messages:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def homeserver() -> Iterator[Homeserver]:
    state = Homeserver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            call = Call(
                self.command,
                unquote(self.path.split("?", 1)[0]),
                self.headers.get("Authorization", ""),
                json.loads(raw or b"{}"),
            )
            with lock:
                state.calls.append(call)
            path = call.path.removeprefix(API)
            if call.method == "POST" and path == "/login":
                who = call.body.get("identifier", {}).get("user")
                if (who, call.body.get("password")) != (USER, PASSWORD):
                    self._answer(403, {"errcode": "M_FORBIDDEN", "error": "Invalid password"})
                    return
                self._answer(
                    200,
                    {
                        "access_token": ACCESS_TOKEN,
                        "user_id": f"@{USER}:localhost",
                        "device_id": "STAGELOOPDEV",
                    },
                )
                return
            if call.authorization != f"Bearer {ACCESS_TOKEN}":
                self._answer(401, {"errcode": "M_MISSING_TOKEN", "error": "Missing token"})
                return
            if call.method == "POST" and path.startswith("/join/"):
                self._answer(200, {"room_id": ROOM_ID})
            elif call.method == "PUT" and path.startswith(f"/rooms/{ROOM_ID}/send/m.room.message/"):
                with lock:
                    state.messages.append(call.body)
                self._answer(200, {"event_id": f"$event{len(state.messages)}"})
            elif call.method == "POST" and path == "/logout":
                self._answer(200, {})
            elif call.method == "GET" and path == "/account/whoami":
                self._answer(200, {"user_id": f"@{USER}:localhost", "device_id": "STAGELOOPDEV"})
            else:
                self._answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.host_port = f"127.0.0.1:{server.server_address[1]}"
    state.url = f"http://{state.host_port}"
    yield state
    server.shutdown()
    server.server_close()
