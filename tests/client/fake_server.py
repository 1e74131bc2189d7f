"""A tiny real HTTP server on a free port, for what a live Stageloop will not do on demand:
drop connections, answer 503, or serve test states before the states API exists."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (method, path, body) -> (status, JSON answer) or None to drop the connection unanswered.
Answer = Callable[[str, str, bytes], tuple[int, object] | None]


@contextmanager
def fake_server(answer: Answer) -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """Serve `answer` on 127.0.0.1; yields the base URL and the requests seen."""
    seen: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append((self.command, self.path, body))
            reply = answer(self.command, self.path, body)
            if reply is None:
                self.close_connection = True
                self.connection.close()
                return
            status, payload = reply
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
