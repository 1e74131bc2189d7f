"""The demo service as a real process, and its e2e suite run against it through the runner.

The good build passes the whole suite; the faulty build stays healthy but fails exactly the
streaming test, on its read timeout: the regression Stageloop exists to catch.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from demo.app import load_faults
from engine.runner import RunnerResult, suite_execute

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_APP = REPO_ROOT / "demo" / "app.py"
E2E_DIR = REPO_ROOT / "demo" / "e2e"
GOOD_BUILD = "stageloop-demo:1.4.1"
FAULTY_BUILD = "stageloop-demo:1.4.0"
STREAMING_TEST = "test_stream_sends_partial_chunks_then_completes"


@contextmanager
def demo_service(log_dir: Path, *, image: str, revision: str) -> Iterator[str]:
    """Run ``python demo/app.py`` on a free port; yield its base URL; stop it afterwards."""
    log_path = log_dir / f"{revision}.log"
    env = {
        **os.environ,
        "PORT": "0",  # the service binds a free port and prints it: no race for the port
        "STAGELOOP_IMAGE": image,
        "STAGELOOP_REVISION": revision,
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(DEMO_APP)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while not (match := re.search(r"listening on (http://\S+)", log_path.read_text())):
            assert proc.poll() is None, f"demo service exited: {log_path.read_text()}"
            assert time.monotonic() < deadline, f"demo service not up: {log_path.read_text()}"
            time.sleep(0.05)
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def good_service(tmp_path_factory) -> Iterator[str]:
    with demo_service(
        tmp_path_factory.mktemp("good"), image=GOOD_BUILD, revision="demo-good-1"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def faulty_service(tmp_path_factory) -> Iterator[str]:
    with demo_service(
        tmp_path_factory.mktemp("faulty"), image=FAULTY_BUILD, revision="demo-faulty-1"
    ) as url:
        yield url


def run_e2e(tmp_path: Path, base_url: str, revision: str) -> tuple[RunnerResult, list[dict]]:
    events: list[dict] = []
    result = suite_execute(
        command=[sys.executable, "-m", "pytest", "-q"],
        cwd=E2E_DIR,
        env={"STAGELOOP_BASE_URL": base_url, "STAGELOOP_REVISION": revision},
        junit_path=tmp_path / "junit.xml",
        events_path=tmp_path / "events.jsonl",
        run_timeout=60,
        # above the suite's own 3 s stream timeout, so the test's clearer message wins
        test_timeout=15,
        on_output=lambda line: None,
        on_event=events.append,
        should_cancel=lambda: False,
    )
    return result, events


def junit_outcomes(path: Path) -> dict[str, tuple[str, str]]:
    """testcase name → (outcome, failure message)."""
    outcomes = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        problem = next((c for c in case if c.tag in ("failure", "error", "skipped")), None)
        outcome = problem.tag if problem is not None else "passed"
        message = problem.get("message", "") if problem is not None else ""
        outcomes[case.get("name")] = (outcome, message)
    return outcomes


def test_the_faulty_build_still_reports_healthy(faulty_service):
    response = httpx.get(f"{faulty_service}/healthz", timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "build": FAULTY_BUILD, "revision": "demo-faulty-1"}
    assert response.headers["X-Stageloop-Revision"] == "demo-faulty-1"


def test_the_good_build_passes_the_whole_e2e_suite(good_service, tmp_path):
    result, events = run_e2e(tmp_path, good_service, "demo-good-1")

    assert result.exit_code == 0, result.output_tail
    outcomes = junit_outcomes(result.junit_path)
    assert len(outcomes) >= 25
    assert {outcome for outcome, _ in outcomes.values()} == {"passed"}
    assert events[0] == {"event": "collected", "total": len(outcomes)}
    assert sum(e["event"] == "test" for e in events) == len(outcomes)


def test_the_faulty_build_fails_exactly_the_streaming_test_on_its_timeout(faulty_service, tmp_path):
    result, events = run_e2e(tmp_path, faulty_service, "demo-faulty-1")

    assert result.exit_code == 1, result.output_tail
    outcomes = junit_outcomes(result.junit_path)
    failed = {name: message for name, (outcome, message) in outcomes.items() if outcome != "passed"}
    assert list(failed) == [STREAMING_TEST]
    assert "Timeout" in failed[STREAMING_TEST]
    assert "1 partial chunk" in failed[STREAMING_TEST]
    test_events = {e["nodeid"].split("::")[-1]: e for e in events if e["event"] == "test"}
    assert test_events[STREAMING_TEST]["outcome"] == "failed"
    assert 3 <= test_events[STREAMING_TEST]["duration"] < 15


def test_builds_file_names_the_faulty_build_and_unknown_builds_have_no_faults():
    assert load_faults(FAULTY_BUILD) == {"stream-hang"}
    assert load_faults(GOOD_BUILD) == frozenset()
    assert load_faults("stageloop-demo:never-built") == frozenset()


def test_an_unknown_fault_name_in_the_builds_file_is_refused(tmp_path):
    builds = tmp_path / "builds.json"
    builds.write_text(json.dumps({"x:1": {"faults": ["disk-full"]}}))

    with pytest.raises(ValueError, match="unknown fault"):
        load_faults("x:1", builds)
