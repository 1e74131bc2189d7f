"""The local target in a gated or canary release: a no-traffic candidate on its own port, and a
real weighted split proxy in front of two revisions, with real processes."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.deploy import DeployRequest, RevisionInfo, get_target
from engine.deploy.local import LocalTarget
from tests.engine.deploy.conftest import PYTHON, LogLines, process_gone

# A revision that says who it is in a header and echoes what it got. /stream sends one line,
# then waits for the file named by ?until= to exist before the second: a proxy that buffered the
# body would never show the first line to a client that has to see it before creating the file.
ECHO_APP = textwrap.dedent(
    """
    import json, os, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    revision = os.environ["STAGELOOP_REVISION"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            got = self.rfile.read(length).decode() if length else ""
            url = urlsplit(self.path)
            if url.path == "/stream":
                until = parse_qs(url.query)["until"][0]
                self.send_response(200)
                self.send_header("X-Stageloop-Revision", revision)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"first\\n")
                self.wfile.flush()
                deadline = time.monotonic() + 10
                while not os.path.exists(until) and time.monotonic() < deadline:
                    time.sleep(0.02)
                self.wfile.write(b"second\\n")
                self.close_connection = True
                return
            body = json.dumps({
                "revision": revision,
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "body": got,
            }).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("X-Stageloop-Revision", revision)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = answer

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
    """
)


class Release:
    """A local target running the echo app, that stops all it started when the test ends."""

    def __init__(self, tmp_path: Path) -> None:
        app = tmp_path / "echo.py"
        app.write_text(ECHO_APP)
        self.tmp_path = tmp_path
        self.targets: list[LocalTarget] = []
        self.started: list[RevisionInfo] = []
        self.target = self.worker()

    def worker(self) -> LocalTarget:
        """The target as any worker process builds it from the same config."""
        target = get_target(
            "local",
            {
                "command": [PYTHON, str(self.tmp_path / "echo.py")],
                "cwd": str(self.tmp_path),
                "state_dir": str(self.tmp_path / "state"),
                "start_timeout": 10,
                "poll_interval": 0.05,
                "stop_grace": 2,
            },
        )
        assert isinstance(target, LocalTarget)
        self.targets.append(target)
        return target

    def deploy(self, image: str, *, no_traffic: bool = False) -> RevisionInfo:
        req = DeployRequest(service="web", image=image, no_traffic=no_traffic, tag="candidate")
        info = self.target.deploy(req, log=LogLines())
        self.started.append(info)
        return info

    def proxy(self) -> dict[str, Any]:
        state = json.loads((self.tmp_path / "state" / "state.json").read_text())
        return dict(state.get("_proxy") or {})

    def close(self) -> None:
        proxy = self.proxy()
        for info in self.started:
            self.target.retire(info)
        if proxy:
            assert process_gone(proxy["pid"]), "the split proxy outlived the test"


@pytest.fixture
def release(tmp_path: Path) -> Iterator[Release]:
    started = Release(tmp_path)
    yield started
    started.close()


def upstreams(url: str, n: int) -> list[str]:
    """Which revision answered each of ``n`` requests to ``url``, after checking both headers."""
    seen = []
    with httpx.Client(timeout=5) as client:
        for _ in range(n):
            response = client.get(url + "/hello")
            assert response.status_code == 200
            upstream = response.headers["X-Stageloop-Upstream"]
            assert (
                response.headers["X-Stageloop-Revision"] == upstream == response.json()["revision"]
            )
            seen.append(upstream)
    return seen


def test_a_no_traffic_deploy_keeps_the_old_revision_serving_and_answers_on_its_own_url(
    release: Release,
) -> None:
    stable = release.deploy("web:1")

    candidate = release.deploy("web:2", no_traffic=True)

    assert release.target.traffic() == {stable.name: 100}
    assert release.worker().traffic() == {stable.name: 100}  # what the state file says
    assert candidate.url == f"http://127.0.0.1:{candidate.extra['port']}"
    assert candidate.url != stable.url
    assert httpx.get(candidate.url + "/", timeout=2).json()["revision"] == candidate.name
    assert release.target.status(candidate.name).status == "ready"
