"""The pytest plugin on real pytest suites: one lookup, disabled tests skipped, quarantined
failures reported but not failing, new tests rerun (Early Flake Detection), every attempt in
the JUnit XML. A small fake server answers the lookup, so each case (caps, a first run) is
exactly the one wanted; tests/client/test_states.py runs the same against the real API."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.client.conftest import BROKEN, SUITE, client_env
from tests.client.fake_server import fake_server

NEW_TEST = """
import pathlib


def test_new_and_steady():
    counter = pathlib.Path(__file__).with_name("new-count")
    counter.write_text(str(int(counter.read_text() or 0) + 1) if counter.exists() else "1")
"""

STATES = {
    "test_adds": ("active", ""),
    "test_greets": ("disabled", "hangs on the CI box"),
    "test_broken": ("quarantined", "waits for the tax fix"),
    "test_flaky_first_time": ("new", ""),
    "test_new_and_steady": ("new", ""),
}


def _states_server(states: dict[str, tuple[str, str]], lookups: list[list[dict]]):
    def answer(method: str, path: str, body: bytes):
        if method == "POST" and path == "/api/v1/services/payments/suites/unit/tests/lookup":
            tests = json.loads(body)["tests"]
            lookups.append(tests)
            out = []
            for test in tests:
                state, reason = states.get(test["name"], ("active", ""))
                out.append({**test, "state": state, "reason": reason, "since": None})
            return 200, {"suite": "unit", "tests": out}
        return 404, {"error": "no such endpoint", "code": "not_found"}

    return fake_server(answer)


def _suite(tmp_path: Path) -> Path:
    root = tmp_path / "suite"
    root.mkdir()
    (root / "test_checkout.py").write_text(SUITE)
    (root / "test_broken.py").write_text(BROKEN)
    (root / "test_new.py").write_text(NEW_TEST)
    return root


def _pytest(url: str, root: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "stageloop", "-p", "no:cacheprovider", "-rs",
         "--stageloop", "--stageloop-service", "payments", "--stageloop-suite", "unit",
         f"--junitxml={root.parent / 'junit.xml'}", *options, "suite"],
        cwd=root.parent, env=client_env(STAGELOOP_URL=url, STAGELOOP_TOKEN="slp_test"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _cases(root: Path) -> dict[str, ET.Element]:
    tree = ET.parse(root.parent / "junit.xml")
    return {case.get("name", ""): case for case in tree.iter("testcase")}


def test_states_act_on_the_suite_and_every_attempt_is_in_the_report(tmp_path):
    root = _suite(tmp_path)
    lookups: list[list[dict]] = []
    with _states_server(STATES, lookups) as (url, _seen):
        done = _pytest(url, root)
    out = done.stdout

    assert done.returncode == 0, out + done.stderr  # the quarantined failure does not count
    assert len(lookups) == 1  # one call for the whole session
    assert {"classname": "suite.test_broken", "name": "test_broken",
            "file": "suite/test_broken.py"} in lookups[0]  # fmt: skip
    assert "SKIPPED [1] suite/test_checkout.py" in out
    assert "disabled in Stageloop: hangs on the CI box" in out
    assert "suite/test_broken.py::test_broken failed, quarantined (not counted): waits for" in out
    assert "3 passed, 1 skipped, 1 quarantined" in out
    assert "test_flaky_first_time is flaky: failed 1 of 5 (new test, Early Flake Detection)" in out
    assert (root / "new-count").read_text() == "5"

    cases = _cases(root)
    broken = cases["test_broken"]
    assert broken.find("failure") is not None  # the server counts the real failure
    assert ("stageloop", "quarantined: waits for the tax fix") in [
        (p.get("name"), p.get("value")) for p in broken.iter("property")
    ]
    flaky = cases["test_flaky_first_time"]
    assert flaky.find("failure") is None
    assert len(flaky.findall("flakyFailure")) == 1
    assert "fails the first time only" in flaky.find("flakyFailure").get("message", "")
    assert cases["test_greets"].find("skipped") is not None


def test_efd_reruns_at_most_the_capped_number_of_new_tests(tmp_path):
    root = _suite(tmp_path)
    with _states_server(STATES, []) as (url, _seen):
        done = _pytest(url, root, "--stageloop-efd-max-tests", "1")
    assert "2 new tests; Early Flake Detection reruns at most 1" in done.stdout
    assert done.returncode == 0, done.stdout
    assert (root / "new-count").read_text() == "1"  # the second new test ran once


def test_on_a_suites_first_run_reruns_stay_within_their_share_of_its_time(tmp_path):
    root = _suite(tmp_path)
    all_new = {name: ("new", "") for name in STATES}
    with _states_server(all_new, []) as (url, _seen):
        done = _pytest(url, root, "--stageloop-efd-max-share", "0")
    assert "Early Flake Detection stopped early for" in done.stdout
    assert (root / "new-count").read_text() == "1"
    assert done.returncode == 1  # test_broken, new and not quarantined, fails


def test_without_configuration_the_plugin_changes_nothing(tmp_path):
    _suite(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "stageloop", "-p", "no:cacheprovider", "suite"],
        cwd=tmp_path, env=client_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "stageloop:" not in done.stdout  # no note, no section of its own
    assert "2 failed, 3 passed" in done.stdout
