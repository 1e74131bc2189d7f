"""A weighted proxy in front of two local revisions: how the local target splits traffic.

Why a laptop splits this way: the local target has no load balancer. Each revision is a process
on its own port, and "traffic" otherwise means which one serves. For a canary step the target
starts this proxy on a port of its own; whatever calls the proxy's URL really gets the split:
each request goes to one of the two revisions, chosen by smooth weighted round-robin, so the
choice is deterministic (at 10 % exactly one request in ten goes to the candidate, spread out
rather than bunched). The weights the target records are read back from the proxy's control
endpoint, not taken from what it asked for, so a record says what the proxy really does.

Run as ``python -m engine.deploy.split_proxy --host 127.0.0.1 --port 8123``; stdlib only.

The control endpoint, ``/_stageloop/split`` (never forwarded):

- ``GET`` answers ``{"backends": {"<revision>": "<url>", ...}, "traffic": {"<revision>": <pct>}}``
  where ``<pct>`` is the revision's percent of the requests;
- ``PUT`` with a body of that shape sets both at once (percents add up to 100, every revision in
  ``traffic`` has a backend) and answers as ``GET``; a bad body gets 400 and a sentence.

Until a split is set, every other request gets 503. A forwarded request keeps its method, path,
query, headers and body; the response keeps its status and headers, its body is streamed as it
arrives, and it gains ``X-Stageloop-Upstream: <revision>``. A revision that refuses the
connection gives 502 and a sentence saying which one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

CONTROL_PATH = "/_stageloop/split"
UPSTREAM_HEADER = "X-Stageloop-Upstream"
# Headers about one connection, not the message: never passed from one side to the other.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_CHUNK = 64 * 1024


@dataclass
class SmoothWeighted:
    """Smooth weighted round-robin over ``weights`` ({name: weight}): every pick adds each
    weight to its name's running score, takes the highest (the first on a tie) and takes the
    total off it. Over any run of ``sum(weights)`` picks, each name is picked exactly its
    weight's number of times."""

    weights: dict[str, int]
    _score: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._score = {name: 0 for name, weight in self.weights.items() if weight > 0}
        if not self._score:
            raise ValueError("at least one weight must be above 0")

    def pick(self) -> str:
        with self._lock:
            total = 0
            for name in self._score:
                self._score[name] += self.weights[name]
                total += self.weights[name]
            chosen = max(self._score, key=self._score.__getitem__)
            self._score[chosen] -= total
            return chosen


@dataclass
class Split:
    """What the proxy does now: where each revision answers, and its share of the requests."""

    backends: dict[str, str]
    traffic: dict[str, int]
    picker: SmoothWeighted

    @classmethod
    def parse(cls, said: Any) -> Split:
        """A Split from a PUT body; ValueError with a sentence when the body is wrong."""
        if not isinstance(said, dict):
            raise ValueError('expected {"backends": {...}, "traffic": {...}}')
        backends, traffic = said.get("backends"), said.get("traffic")
        if not isinstance(backends, dict) or not isinstance(traffic, dict) or not traffic:
            raise ValueError('expected {"backends": {...}, "traffic": {...}}')
        for name, url in backends.items():
            parts = urlsplit(str(url))
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"backend {name!r} must be an http:// URL, not {url!r}")
        missing = sorted(set(traffic) - set(backends))
        if missing:
            raise ValueError(f"no backend for {', '.join(missing)}")
        shares = {str(name): share for name, share in traffic.items()}
        if not all(type(share) is int and 0 <= share <= 100 for share in shares.values()):
            raise ValueError(f"every share must be a percent from 0 to 100, not {traffic!r}")
        if sum(shares.values()) != 100:
            raise ValueError(f"the shares must add up to 100, not {sum(shares.values())}")
        return cls(
            backends={str(k): str(v).rstrip("/") for k, v in backends.items()},
            traffic=shares,
            picker=SmoothWeighted(shares),
        )

    def report(self) -> dict[str, Any]:
        return {"backends": self.backends, "traffic": self.traffic}


class SplitServer(ThreadingHTTPServer):
    daemon_threads = True
    split: Split | None = None
    upstream_timeout: float = 60.0


class SplitHandler(BaseHTTPRequestHandler):
    """Forwards every request but the control endpoint's to the revision the split picks."""

    protocol_version = "HTTP/1.1"  # keep-alive and chunked responses to clients
    server: SplitServer

    def handle_any(self) -> None:
        if urlsplit(self.path).path == CONTROL_PATH:
            self._control()
            return
        split = self.server.split
        if split is None:
            self._drain_body()
            self._plain(503, "this proxy has no traffic split yet; the deploy target sets one")
            return
        self._forward(split)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    def _control(self) -> None:
        if self.command == "PUT":
            try:
                split = Split.parse(json.loads(self._read_body() or b"null"))
            except ValueError as exc:  # a JSON error is a ValueError too
                self._plain(400, f"the split was not changed: {exc}")
                return
            self.server.split = split
            print(f"split set: {json.dumps(split.traffic, sort_keys=True)}", flush=True)
        elif self.command != "GET":
            self._drain_body()
            self._plain(405, f"{CONTROL_PATH} answers GET and PUT only")
            return
        current = self.server.split
        report = current.report() if current else {"backends": {}, "traffic": {}}
        body = json.dumps(report, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self, split: Split) -> None:
        body = self._read_body()
        name = split.picker.pick()
        url = urlsplit(split.backends[name])
        conn = http.client.HTTPConnection(
            url.hostname or "", url.port, timeout=self.server.upstream_timeout
        )
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for key, value in self.headers.items():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    conn.putheader(key, value)
            if body or "content-length" in self.headers:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            response = conn.getresponse()
        except ConnectionRefusedError:
            self._plain(
                502,
                f"revision {name} refused the connection at {split.backends[name]}; "
                "its process is probably not running",
                upstream=name,
            )
            conn.close()
            return
        except (OSError, http.client.HTTPException) as exc:
            self._plain(
                502,
                f"revision {name} at {split.backends[name]} gave no answer: {exc or type(exc)}",
                upstream=name,
            )
            conn.close()
            return
        try:
            self._relay(response, name)
        except (OSError, http.client.HTTPException):
            self.close_connection = True  # the response is cut short; the client must see that
        finally:
            conn.close()

    def _relay(self, response: http.client.HTTPResponse, name: str) -> None:
        """Send ``response`` on to the client, its body as it arrives."""
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header(UPSTREAM_HEADER, name)
        no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        chunked = not no_body and length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            return
        while data := response.read1(_CHUNK):
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after the chunk
        while self.rfile.readline().strip():  # trailers, up to the blank line
            pass
        return b"".join(parts)

    def _drain_body(self) -> None:
        try:
            self._read_body()
        except ValueError:
            self.close_connection = True

    def _plain(self, status: int, sentence: str, *, upstream: str = "") -> None:
        body = (sentence + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if upstream:
            self.send_header(UPSTREAM_HEADER, upstream)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if status >= 500:
            print(f"{status} {self.command} {self.path}: {sentence}", flush=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would fill the log; failures are printed where they happen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stageloop's weighted split proxy")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = SplitServer((args.host, args.port), SplitHandler)
    print(f"split proxy listening on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
