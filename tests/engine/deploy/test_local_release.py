"""The local target in a gated or canary release: a no-traffic candidate on its own port, and a
real weighted split proxy in front of two revisions, with real processes."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.deploy import DeployError, DeployRequest, RevisionInfo, get_target
from engine.deploy.local import LocalTarget
from engine.deploy.split_proxy import CONTROL_PATH, SmoothWeighted
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
        for target in self.targets:
            target.stop_proxy()
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


def test_a_10_percent_split_sends_exactly_10_of_100_requests_to_the_candidate(
    release: Release,
) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)

    split = release.target.split(stable.name, candidate.name, 10, tag="candidate")

    proxy = release.proxy()
    assert proxy["url"] == release.target.proxy_url() == f"http://127.0.0.1:{proxy['port']}"
    assert not process_gone(proxy["pid"], within=0.2)
    assert split == {stable.name: 90, candidate.name: 10}
    seen = upstreams(proxy["url"], 100)
    assert seen.count(candidate.name) == 10
    assert seen.count(stable.name) == 90
    # Spread out, not bunched: one candidate request in every ten.
    assert all(seen[i : i + 10].count(candidate.name) == 1 for i in range(0, 100, 10))
    assert release.target.traffic() == {stable.name: 90, candidate.name: 10}
    assert release.worker().traffic() == {stable.name: 90, candidate.name: 10}
    # The revisions' own URLs still reach each one alone.
    assert httpx.get(stable.url + "/").json()["revision"] == stable.name


def test_traffic_is_what_the_proxy_reports_not_what_was_asked(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    url = release.target.proxy_url()
    backends = httpx.get(url + CONTROL_PATH).json()["backends"]

    # Someone else changes the proxy's weights behind the target's back.
    changed = {"backends": backends, "traffic": {stable.name: 75, candidate.name: 25}}
    assert httpx.put(url + CONTROL_PATH, json=changed).status_code == 200

    assert release.target.traffic() == {stable.name: 75, candidate.name: 25}
    assert upstreams(url, 4).count(candidate.name) == 1


def test_the_next_step_reuses_the_proxy_and_moves_its_weights(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    pid = release.proxy()["pid"]

    assert release.target.split(stable.name, candidate.name, 50) == {
        stable.name: 50,
        candidate.name: 50,
    }

    assert release.proxy()["pid"] == pid
    assert upstreams(release.target.proxy_url(), 10).count(candidate.name) == 5


def test_split_100_promotes_the_candidate_and_stops_the_proxy(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    pid = release.proxy()["pid"]

    assert release.target.split(stable.name, candidate.name, 100) == {candidate.name: 100}

    assert process_gone(pid)
    assert release.proxy() == {}
    assert release.target.proxy_url() == ""
    assert release.target.traffic() == {candidate.name: 100}


def test_split_0_rolls_back_to_stable_and_stops_the_proxy(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 50)
    pid = release.proxy()["pid"]

    assert release.target.split(stable.name, candidate.name, 0) == {stable.name: 100}

    assert process_gone(pid)
    assert release.target.traffic() == {stable.name: 100}


def test_a_split_to_a_candidate_that_died_says_which_one_is_not_running(
    release: Release,
) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    os.kill(candidate.extra["pid"], signal.SIGKILL)
    assert process_gone(candidate.extra["pid"])

    with pytest.raises(DeployError, match=f"{candidate.name}: its process is not running"):
        release.target.split(stable.name, candidate.name, 10)

    assert release.proxy() == {}  # no proxy started for a split that cannot be
    assert release.target.traffic() == {stable.name: 100}
    # Rolling back needs only the stable revision: it works with the candidate dead.
    assert release.target.split(stable.name, candidate.name, 0) == {stable.name: 100}


def test_a_candidate_that_dies_mid_step_gets_502_with_a_sentence_and_rolls_back(
    release: Release,
) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 50)
    os.kill(candidate.extra["pid"], signal.SIGKILL)
    assert process_gone(candidate.extra["pid"])

    responses = [httpx.get(release.target.proxy_url() + "/", timeout=5) for _ in range(2)]

    failed = [r for r in responses if r.status_code == 502]
    assert len(failed) == 1
    assert failed[0].headers["X-Stageloop-Upstream"] == candidate.name
    assert f"revision {candidate.name} refused the connection" in failed[0].text
    assert release.target.split(stable.name, candidate.name, 0) == {stable.name: 100}


def test_a_proxy_killed_behind_the_targets_back_makes_traffic_an_error_not_a_guess(
    release: Release,
) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    pid = release.proxy()["pid"]

    os.kill(pid, signal.SIGKILL)
    assert process_gone(pid)

    with pytest.raises(DeployError, match="cannot be told"):
        release.target.traffic()
    # A rollback still works, and afterwards the target can tell again.
    assert release.target.split(stable.name, candidate.name, 0) == {stable.name: 100}


def test_retiring_the_candidate_stops_the_proxy(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    pid = release.proxy()["pid"]

    release.worker().retire(RevisionInfo(name=candidate.name, url=candidate.url, status="failed"))

    assert process_gone(pid)
    assert process_gone(candidate.extra["pid"])
    assert release.target.traffic() == {stable.name: 100}


def test_a_rollback_during_a_canary_stops_the_proxy(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    pid = release.proxy()["pid"]

    assert release.target.rollback(stable.name) == {stable.name: 100}

    assert process_gone(pid)


def test_a_deploy_that_takes_traffic_during_a_canary_stops_the_proxy(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    pid = release.proxy()["pid"]

    newest = release.deploy("web:3")

    assert process_gone(pid)
    assert release.target.traffic() == {newest.name: 100}


def test_the_proxy_forwards_method_path_query_headers_and_body(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 50)
    url = release.target.proxy_url()

    response = httpx.post(
        url + "/orders/7?expand=items&x=%2F",
        content=b'{"qty": 2}',
        headers={"X-Request-Id": "r-42", "Content-Type": "application/json"},
    )

    assert response.status_code == 201
    echoed = response.json()
    assert echoed["revision"] == response.headers["X-Stageloop-Upstream"]
    assert (echoed["method"], echoed["path"]) == ("POST", "/orders/7?expand=items&x=%2F")
    assert echoed["body"] == '{"qty": 2}'
    assert echoed["headers"]["X-Request-Id"] == "r-42"
    assert echoed["headers"]["Content-Type"] == "application/json"

    # A body sent in chunks reaches the revision whole.
    chunked = httpx.put(url + "/upload", content=iter([b"part one, ", b"part two"]))
    assert chunked.json()["body"] == "part one, part two"


def test_the_proxy_streams_a_response_as_it_arrives(release: Release, tmp_path: Path) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 50)
    go = tmp_path / "go"

    url = release.target.proxy_url() + f"/stream?until={go}"

    # The revision holds "second" back for 10 s; a proxy that buffered would time this out.
    with httpx.Client(timeout=5) as client, client.stream("GET", url) as response:
        lines = response.iter_lines()
        assert next(lines) == "first"
        go.touch()
        assert list(lines) == ["second"]


def test_the_proxy_refuses_a_split_that_does_not_add_up(release: Release) -> None:
    stable = release.deploy("web:1")
    candidate = release.deploy("web:2", no_traffic=True)
    release.target.split(stable.name, candidate.name, 10)
    url = release.target.proxy_url()
    backends = httpx.get(url + CONTROL_PATH).json()["backends"]

    bad = {"backends": backends, "traffic": {stable.name: 90, candidate.name: 20}}
    response = httpx.put(url + CONTROL_PATH, json=bad)

    assert response.status_code == 400
    assert "add up to 100" in response.text
    assert release.target.traffic() == {stable.name: 90, candidate.name: 10}


def test_split_refuses_a_percent_outside_0_to_100_and_the_same_revision_twice(
    release: Release,
) -> None:
    stable = release.deploy("web:1")
    with pytest.raises(DeployError, match="between 0 and 100"):
        release.target.split(stable.name, "web-2", 110)
    with pytest.raises(DeployError, match="itself"):
        release.target.split(stable.name, stable.name, 10)


@pytest.mark.parametrize(("weights", "n"), [({"a": 90, "b": 10}, 10), ({"a": 1, "b": 1}, 2)])
def test_smooth_weighted_round_robin_picks_each_its_share_in_every_round(
    weights: dict[str, int], n: int
) -> None:
    picker = SmoothWeighted(weights)
    rounds = [[picker.pick() for _ in range(n)] for _ in range(5)]

    for picks in rounds:
        assert {name: picks.count(name) for name in weights} == {
            name: weight * n // sum(weights.values()) for name, weight in weights.items()
        }
