"""Everything the engine starts is announced through ``on_start(pid)`` as soon as it runs, before
the engine waits on it: the service layer records the process group, so a sweeper can stop it
when the worker that waited on it died."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine.deploy import DeployRequest, get_target
from engine.runner import suite_execute
from tests.engine.deploy.conftest import PYTHON


def _leads_a_live_group(pid: int) -> bool:
    return os.getpgid(pid) == pid


def test_the_suite_runner_announces_the_group_before_waiting_on_it(tmp_path: Path) -> None:
    seen: list[tuple[int, bool]] = []
    result = suite_execute(
        command=[sys.executable, "-c", "import time; time.sleep(0.5)"],
        cwd=tmp_path,
        env={},
        junit_path=tmp_path / "junit.xml",
        events_path=tmp_path / "events.jsonl",
        run_timeout=30,
        test_timeout=None,
        on_output=lambda line: None,
        on_event=lambda event: None,
        should_cancel=lambda: False,
        on_start=lambda pid: seen.append((pid, _leads_a_live_group(pid))),
    )
    assert result.exit_code == 0
    assert len(seen) == 1
    assert seen[0][1], "on_start came after the suite's group was gone"


def test_the_local_target_announces_the_revision_process_before_it_is_healthy(
    tmp_path: Path,
) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        "import os, time\n"
        "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
        "time.sleep(1)\n"
        "class H(BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers()\n"
        "ThreadingHTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n"
    )
    target = get_target(
        "local",
        {
            "command": [PYTHON, str(app)],
            "state_dir": str(tmp_path / "state"),
            "poll_interval": 0.05,
        },
    )
    seen: list[int] = []
    logged: list[str] = []

    def on_start(pid: int) -> None:
        seen.append(pid)
        assert _leads_a_live_group(pid)
        assert not any("is healthy" in line for line in logged)

    info = target.deploy(
        DeployRequest(service="svc", image="img:1"), log=logged.append, on_start=on_start
    )
    try:
        assert seen == [info.extra["pid"]]
    finally:
        target.retire(info)


def test_the_command_target_announces_the_deploy_command(tmp_path: Path) -> None:
    script = tmp_path / "deploy.py"
    script.write_text(
        "import json, time\ntime.sleep(0.3)\n"
        "print(json.dumps({'revision': 'r1', 'url': 'http://x'}))\n"
    )
    target = get_target("command", {"command": [PYTHON, str(script)], "timeout": 30})
    seen: list[tuple[int, bool]] = []
    target.deploy(
        DeployRequest(service="svc", image="img:1"),
        log=lambda line: None,
        on_start=lambda pid: seen.append((pid, _leads_a_live_group(pid))),
    )
    assert len(seen) == 1 and seen[0][1]
