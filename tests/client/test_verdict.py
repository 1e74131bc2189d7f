"""`stageloop verdict`: the release gate's verdict of a revision as an exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runs.models import TestRun
from runs.services.gates import gate_evaluate_run
from tests.client.conftest import client_env
from tests.junit_reports import JUNIT

pytestmark = pytest.mark.django_db(transaction=True)


PASSING = '<testsuite name="api"><testcase classname="api.test_cart" name="test_adds"/></testsuite>'


def _upload(stageloop, report: str, revision: str, tmp_path) -> TestRun:
    if report == "pytest-pass.xml":
        path = tmp_path / report
        path.write_text(PASSING)
    else:
        path = JUNIT / report
    done = stageloop(
        "upload", str(path), "--service", "payments", "--suite", "api", "--create",
        "--revision", revision,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return TestRun.objects.latest("pk")


def test_a_passing_verdict_exits_0_and_a_failing_one_1(stageloop, tmp_path):
    gate_evaluate_run(run_id=_upload(stageloop, "pytest-pass.xml", "payments-00001", tmp_path).pk)
    gate_evaluate_run(run_id=_upload(stageloop, "pytest-fail.xml", "payments-00002", tmp_path).pk)

    passed = stageloop("verdict", "--service", "payments", "--revision", "payments-00001")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("pass: ")
    assert "/revisions/" in passed.stdout

    failed = stageloop("verdict", "--service", "payments", "--revision", "payments-00002")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stdout.startswith("fail: ")


def test_no_verdict_yet_exits_4_and_waiting_for_it_times_out_with_3(stageloop, tmp_path):
    _upload(stageloop, "pytest-pass.xml", "payments-00001", tmp_path)
    missing = stageloop("verdict", "--service", "payments", "--revision", "payments-00001")
    assert missing.returncode == 4
    assert "has no verdict yet" in missing.stderr

    waited = stageloop(
        "verdict", "--service", "payments", "--revision", "payments-00001", "--wait",
        "--timeout", "1", "--interval", "0.2",
    )  # fmt: skip
    assert waited.returncode == 3
    assert "no final verdict for payments-00001 after 1 s" in waited.stderr


def test_wait_returns_once_the_gate_has_judged(stageloop, server, tmp_path):
    run = _upload(stageloop, "pytest-pass.xml", "payments-00001", tmp_path)
    waiting = subprocess.Popen(
        [sys.executable, "-m", "stageloop", "verdict", "--service", "payments", "--revision",
         "payments-00001", "--wait", "--timeout", "60", "--interval", "0.2"],
        env=client_env(STAGELOOP_URL=server.url, STAGELOOP_TOKEN=server.token),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = waiting.stderr.readline()
        assert "has no verdict yet" in first and "Waiting." in first
        gate_evaluate_run(run_id=run.pk)
        assert waiting.wait(timeout=30) == 0
    finally:
        waiting.kill()
    assert waiting.stdout.read().startswith("pass: ")
