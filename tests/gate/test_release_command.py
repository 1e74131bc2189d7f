"""Gated and canary releases through a deploy command: real scripts move a split kept in a file,
real HTTP servers stand for the stable revision and the candidate (the candidate's URL comes from
the command's JSON), and the probes and the canary comparison are real."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runs.models import Deploy, Revision, Service, Suite, TestRun
from runs.services.deploy_step import deploy_claim, deploy_execute
from runs.services.gates import gate_evaluate
from runs.services.release import release_decide

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEPLOY = """
import json, os
env = os.environ
print("deploying", env["STAGELOOP_IMAGE"], "with no traffic:", env.get("STAGELOOP_NO_TRAFFIC"))
print(json.dumps({"revision": env["STAGELOOP_REVISION"], "url": env["CANDIDATE_URL"]}))
"""
TRAFFIC = """
import json, os, sys
env = os.environ
percent = int(env["STAGELOOP_TRAFFIC_PERCENT"])
split = {env["STAGELOOP_STABLE_REVISION"]: 100 - percent, env["STAGELOOP_REVISION"]: percent}
split = {k: v for k, v in split.items() if v}
open(sys.argv[1], "w").write(json.dumps(split))
print(json.dumps({"traffic": split}))
"""
READ = """
import sys
print(open(sys.argv[1]).read())
"""


def _server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers() -> Iterator[dict[str, ThreadingHTTPServer]]:
    made = {"stable": _server(0), "fast": _server(0), "slow": _server(0.05)}
    yield made
    for server in made.values():
        server.shutdown()
        server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def split_file(tmp_path: Path) -> Path:
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"cmd-1": 100}))
    return path


def command_service(servers, split_file: Path, candidate: str) -> Service:
    service = Service.objects.create(
        name="cmd",
        target_kind=Service.TargetKind.COMMAND,
        target_config={
            "command": [sys.executable, "-c", DEPLOY],
            "traffic_command": [sys.executable, "-c", TRAFFIC, str(split_file)],
            "read_traffic_command": [sys.executable, "-c", READ, str(split_file)],
            "env": {"CANDIDATE_URL": _url(servers[candidate])},
        },
        health_path="/healthz",
        canary_steps=[10, 50, 100],
        canary_step_seconds=3,
    )
    Suite.objects.create(service=service, name="e2e")
    stable = Revision.objects.create(
        service=service, name="cmd-1", status="ready", url=_url(servers["stable"])
    )
    Service.objects.filter(pk=service.pk).update(current_revision=stable)
    service.refresh_from_db()
    return service


def release(service: Service, policy: str, *, failed: int = 0) -> Deploy:
    deploy = Deploy.objects.create(
        service=service,
        image="web:2",
        release_policy=policy,
        previous_revision=service.current_revision,
    )
    claimed = deploy_claim(deploy_id=deploy.pk)
    assert claimed is not None
    revision = deploy_execute(claimed)
    assert revision is not None, Deploy.objects.get(pk=deploy.pk).error
    assert json.loads(Path(service.target_config["traffic_command"][-1]).read_text()) == {
        "cmd-1": 100
    }
    run = TestRun.objects.create(
        suite=service.suites.get(),
        service=service,
        deploy=deploy,
        revision=revision,
        status="failed" if failed else "passed",
        total=5,
        passed=5 - failed,
        failed=failed,
    )
    gate_evaluate(run=run)
    release_decide(deploy=Deploy.objects.get(pk=deploy.pk), candidate=revision, run=run)
    return Deploy.objects.get(pk=deploy.pk)


def test_gated_through_a_command_refuses_a_failing_candidate_and_promotes_a_passing_one(
    servers, split_file
):
    service = command_service(servers, split_file, "fast")

    refused = release(service, "gated", failed=1)

    assert (refused.status, refused.release) == ("failed", "refused"), refused.release_note
    assert json.loads(split_file.read_text()) == {"cmd-1": 100}
    assert "traffic never moved" in refused.release_note
    assert "deploying web:2 with no traffic: 1" in refused.log

    service.refresh_from_db()
    promoted = release(service, "gated")

    assert (promoted.status, promoted.release) == ("succeeded", "promoted"), promoted.release_note
    assert json.loads(split_file.read_text()) == {promoted.revision.name: 100}
    assert promoted.traffic_after == [{"revision": promoted.revision.name, "percent": 100}]


def test_a_canary_through_a_command_stops_a_slower_candidate_at_the_first_step(
    servers, split_file, settings
):
    settings.CANARY_PROBE_INTERVAL = 0.1
    service = command_service(servers, split_file, "slow")

    deploy = release(service, "canary")

    assert (deploy.status, deploy.release) == ("failed", "rolled_back"), deploy.release_note
    assert [(s["percent"], s["outcome"]) for s in deploy.release_steps] == [(10, "fail")]
    assert {t["revision"]: t["percent"] for t in deploy.release_steps[0]["split"]} == {
        "cmd-1": 90,
        deploy.revision.name: 10,
    }
    assert json.loads(split_file.read_text()) == {"cmd-1": 100}


def test_a_canary_through_a_command_promotes_a_candidate_as_fast_as_stable(
    servers, split_file, settings
):
    settings.CANARY_PROBE_INTERVAL = 0.1
    service = command_service(servers, split_file, "fast")

    deploy = release(service, "canary")

    assert (deploy.status, deploy.release) == ("succeeded", "promoted"), deploy.release_note
    assert [(s["percent"], s["outcome"]) for s in deploy.release_steps] == [
        (10, "pass"),
        (50, "pass"),
    ]
    assert json.loads(split_file.read_text()) == {deploy.revision.name: 100}
