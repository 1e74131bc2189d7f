"""A real HTTP server on a free local port for the probing tests.

It runs the standard library's ThreadingHTTPServer in a background thread, so probes go through
real sockets, real HTTP parsing and real timing, with no network beyond loopback.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

REVISION = "web-00042-x7k"
BODY_TEXT = "stageloop test server: all systems nominal"
HANG_SECONDS = 30.0


@dataclass
class ServerStats:
    """How many /slow requests the server was serving at once, to check the client's limit."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    max_in_flight: int = 0

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def reset(self) -> None:
        with self.lock:
            self.max_in_flight = self.in_flight


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Hundreds of probes connect at once; the default backlog of 5 would stall them in SYN retries.
    request_queue_size = 1024
    stats: ServerStats
    stopping: threading.Event


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def handle(self) -> None:
        # A TLS ClientHello (first byte 0x16) often has no newline, so the stock handler would wait
        # for a request line forever. Answer it as a plain HTTP server would answer any garbage.
        first = self.connection.recv(1, socket.MSG_PEEK)
        if first == b"\x16":
            self.connection.recv(65536)  # drain the hello, or closing would reset the connection
            self.connection.sendall(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        super().handle()

    def do_GET(self) -> None:
        self._route()

    do_HEAD = do_GET

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if url.path == "/ok":
            self._send(200, b"ok", headers={"X-Stageloop-Revision": REVISION})
        elif parts[0] == "status" and len(parts) == 2 and parts[1].isdigit():
            self._send(int(parts[1]), f"status {parts[1]}".encode())
        elif url.path == "/slow":
            self.server.stats.enter()
            try:
                time.sleep(int(query.get("ms", ["100"])[0]) / 1000)
            finally:
                self.server.stats.leave()
            self._send(200, b"slow but fine")
        elif url.path == "/hang":
            self.server.stopping.wait(HANG_SECONDS)
            self._send(200, b"too late")
        elif url.path == "/json":
            document = {"status": "ok", "db": {"ok": True}, "checks": [{"name": "redis"}]}
            self._send(200, json.dumps(document).encode(), content_type="application/json")
        elif url.path == "/body":
            self._send(200, BODY_TEXT.encode())
        elif url.path == "/big":
            self._send(200, b"x" * 1_000_000 + b"needle")
        elif url.path == "/redirect":
            self._send(302, b"", headers={"Location": "/ok"})
        else:
            self._send(404, b"no such route")

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            # The probe may have given up (timeout or body cap); there is nothing left to tell it.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet


@dataclass
class LocalServer:
    base_url: str
    stats: ServerStats

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


@pytest.fixture(scope="session")
def http_server() -> Iterator[LocalServer]:
    """A live HTTP server with the routes /ok, /status/<code>, /slow?ms=, /hang, /json, /body,
    /big and /redirect."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stats = ServerStats()
    server.stopping = threading.Event()
    thread = threading.Thread(target=server.serve_forever, name="probe-test-server", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield LocalServer(base_url=f"http://{host}:{port}", stats=server.stats)
    finally:
        server.stopping.set()  # release /hang handlers
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def server(http_server: LocalServer) -> LocalServer:
    """The shared server, with its concurrency statistics reset for this test."""
    http_server.stats.reset()
    return http_server


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
