"""A server that cannot be reached, goes away mid-run or answers 5xx: one clear line each,
retries with backoff, and the --offline policy decides the exit code (never a silent pass)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.client.conftest import BROKEN, run_stageloop, suite_command
from tests.client.fake_server import fake_server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(url: str, suite_dir: Path, *options: str):
    return run_stageloop(
        "run", "--service", "payments", "--suite", "unit", *options,
        *suite_command(str(suite_dir)), url=url, token="slp_test", cwd=suite_dir.parent,
    )  # fmt: skip


def test_an_unreachable_server_follows_each_offline_policy(suite_dir):
    url = f"http://127.0.0.1:{_closed_port()}"
    (suite_dir / "flaky-count").write_text("1")

    green = _run(url, suite_dir, "--retries", "0")
    assert green.returncode == 0
    assert f"Cannot reach Stageloop at {url}: the connection was refused" in green.stderr
    assert "exiting with the suite's own code, 0." in green.stderr

    failing = _run(url, suite_dir, "--retries", "0", "--offline", "fail")
    assert failing.returncode == 6
    assert "--offline=fail: exiting 6." in failing.stderr

    (suite_dir / "test_broken.py").write_text(BROKEN)
    broken = _run(url, suite_dir, "--retries", "0")
    assert broken.returncode == 1
    assert "exiting with the suite's own code, 1." in broken.stderr

    passed = _run(url, suite_dir, "--retries", "0", "--offline", "pass")
    assert passed.returncode == 0
    assert "--offline=pass: exiting 0." in passed.stderr
    # The plugin said once, in the suite's own output, that it ran without test states.
    assert "Running without test states" in passed.stdout


def test_a_server_that_goes_away_mid_run_is_retried_then_reported(suite_dir):
    def answer(method: str, path: str, body: bytes):
        if path.endswith("/tests/lookup"):
            tests = json.loads(body)["tests"]
            return 200, {"suite": "unit", "tests": [dict(t, state="active") for t in tests]}
        return None  # the upload: the connection drops unanswered

    (suite_dir / "flaky-count").write_text("1")
    with fake_server(answer) as (url, seen):
        done = _run(url, suite_dir, "--retries", "2")
    uploads = [s for s in seen if s[1] == "/api/v1/runs"]
    assert len(uploads) == 3
    assert done.returncode == 0  # the suite's own code: it passed
    assert "the connection broke" in done.stderr
    assert "(tried 3 times)" in done.stderr
    assert "Nothing was uploaded" in done.stderr


def test_a_503_is_retried_and_quarantined_failures_do_not_fail_the_build(tmp_path):
    calls = []

    def answer(method: str, path: str, body: bytes):
        calls.append(path)
        if len(calls) == 1:
            return 503, {"error": "The database does not answer.", "code": "unavailable"}
        return 201, {
            "id": 7, "url": "http://stageloop.test/runs/7/", "status": "failed", "created": True,
            "total": 35, "passed": 34, "failed": 1, "errors": 0, "skipped": 0, "flaky": 0,
            "warnings": [], "blocking_failures": 0, "quarantined_failures": 1,
        }  # fmt: skip

    big = tmp_path / "big.xml"
    case = '<testcase classname="c" name="t{}" time="0.1"/>'
    big.write_text("<testsuite>" + "".join(case.format(i) for i in range(40_000)) + "</testsuite>")
    assert big.stat().st_size > 1024 * 1024
    with fake_server(answer) as (url, _seen):
        done = run_stageloop(
            "run", "--service", "payments", "--suite", "unit", "--junit", str(big),
            "--", "sh", "-c", f"touch {big}; exit 1", url=url, token="slp_test", cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        "34 passed, 1 quarantined failure (not counted); run 7: http://stageloop.test/runs/7/"
        in (done.stdout)
    )
    assert "(100 %)" in done.stderr  # progress for a big file
    assert len(calls) == 2
