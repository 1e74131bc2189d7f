"""A real HTTP server on 127.0.0.1 standing for GitHub's or GitLab's API in commit-status tests:
it records each request (method, path, headers, JSON body) and answers from a plan."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict


@dataclass
class Answer:
    status: int = 201
    body: str = '{"id": 1}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # hold the connection open until the test ends


@dataclass
class CodeHostServer:
    url: str = ""
    plan: list[Answer] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.calls) >= count:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def codehost() -> Iterator[CodeHostServer]:
    state = CodeHostServer()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state.calls.append(
                    Call(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw or b"{}"),
                    )
                )
                answer = state.plan.pop(0) if state.plan else Answer()
            if answer.hang:
                state.release.wait(30)
                return
            data = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
