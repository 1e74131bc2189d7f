"""A real HTTP server on a free 127.0.0.1 port for the integrations tests' fake receivers (a
webhook receiver, GitHub's and GitLab's API, a Matrix homeserver): each request is handed, under
a lock, to the fake's ``answer`` function, which records it and says how to reply."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str  # with its query string, as sent
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # hold the connection open, unanswered, until the server stops


Answer = Callable[[Request], Reply]


def wait_until(done: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``done`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.02)
    return False


@contextmanager
def http_server(answer: Answer) -> Iterator[str]:
    """Serve GET, POST and PUT with ``answer`` until the block ends; yields the base URL
    (``http://127.0.0.1:<port>``). Hanging replies are let go when it ends."""
    lock = threading.Lock()
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                reply = answer(Request(self.command, self.path, dict(self.headers.items()), body))
            if reply.hang:
                release.wait(30)
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
