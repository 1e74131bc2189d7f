"""Test states on a real server: `stageloop quarantine` changes and lists them, and the plugin
acts on them in a real suite run by `stageloop run`."""

from __future__ import annotations

import pytest

from runs.models import TestResult, TestRun
from runs.services.tokens import token_create
from tests.client.conftest import BROKEN, suite_command

pytestmark = pytest.mark.django_db(transaction=True)

NEW_FLAKY = """
import pathlib


def test_new_and_flaky():
    counter = pathlib.Path(__file__).with_name("new-count")
    runs = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(runs + 1))
    assert runs != 0, "fails on its first attempt only"
"""


def _run(stageloop, suite_dir):
    return stageloop(
        "run", "--service", "payments", "--suite", "unit", "--create",
        *suite_command(str(suite_dir), "-rs"),
    )  # fmt: skip


def _where(*args: str) -> tuple[str, ...]:
    return (*args, "--service", "payments", "--suite", "unit")


def test_quarantine_commands_change_and_list_states(stageloop, suite_dir, viewer):
    (suite_dir / "flaky-count").write_text("1")
    (suite_dir / "test_broken.py").write_text(BROKEN)
    assert _run(stageloop, suite_dir).returncode == 1

    added = stageloop(
        *_where("quarantine", "add", "suite.test_broken::test_broken"),
        "--reason", "waits for the tax fix",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "suite.test_broken::test_broken is now quarantined." in added.stdout
    disabled = stageloop(
        *_where("quarantine", "disable", "suite/test_checkout.py::test_greets"),
        "--reason", "hangs on the CI box", "--expires", "2999-01-01T00:00:00Z",
    )  # fmt: skip
    assert disabled.returncode == 0, disabled.stderr

    listed = stageloop(*_where("quarantine", "list"))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert any(
        line.startswith("quarantined  suite.test_broken::test_broken by otto-operator")
        and line.endswith(": waits for the tax fix")
        for line in lines
    )
    assert any(
        "suite.test_checkout::test_greets" in line and "until 2999" in line for line in lines
    )
    only = stageloop(*_where("quarantine", "list"), "--state", "disabled")
    assert only.stdout.count("\n") == 1 and "test_greets" in only.stdout

    unknown = stageloop(*_where("quarantine", "add", "suite.test_x::test_nope"), "--reason", "r")
    assert unknown.returncode == 4
    assert "has no test 'test_nope'" in unknown.stderr
    no_reason = stageloop(*_where("quarantine", "add", "suite.test_checkout::test_adds"))
    assert no_reason.returncode == 4
    assert "reason" in no_reason.stderr

    _token, secret = token_create(user=viewer, name="read only")
    refused = stageloop(
        *_where("quarantine", "remove", "suite.test_broken::test_broken"), STAGELOOP_TOKEN=secret
    )
    assert refused.returncode == 5
    assert "Operator" in refused.stderr

    removed = stageloop(*_where("quarantine", "remove", "suite.test_broken::test_broken"))
    assert removed.returncode == 0
    assert "test_broken" not in stageloop(*_where("quarantine", "list")).stdout


def test_the_plugin_skips_disabled_keeps_quarantined_from_failing_and_catches_a_new_flake(
    stageloop, suite_dir
):
    (suite_dir / "flaky-count").write_text("1")
    (suite_dir / "test_broken.py").write_text(BROKEN)
    assert _run(stageloop, suite_dir).returncode == 1  # the suite's first run
    for action, test, reason in (
        ("add", "suite.test_broken::test_broken", "waits for the tax fix"),
        ("disable", "suite.test_checkout::test_greets", "hangs on the CI box"),
    ):
        done = stageloop(*_where("quarantine", action, test), "--reason", reason)
        assert done.returncode == 0, done.stderr
    (suite_dir / "test_new.py").write_text(NEW_FLAKY)

    done = _run(stageloop, suite_dir)

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "disabled in Stageloop: hangs on the CI box" in out
    assert "test_broken failed, quarantined (not counted): waits for the tax fix" in out
    assert "test_new_and_flaky is flaky: failed 1 of 5 (new test, Early Flake Detection)" in out
    assert "3 passed, 1 quarantined failure (not counted), 1 skipped, 1 flaky; run" in out
    run = TestRun.objects.latest("pk")
    assert (run.quarantined_failures, run.blocking_failures, run.skipped) == (1, 0, 1)
    new = TestResult.objects.get(run=run, case__name="test_new_and_flaky")
    assert (new.outcome, new.flaky, new.attempts) == ("passed", True, 2)
    assert (suite_dir / "new-count").read_text() == "5"
