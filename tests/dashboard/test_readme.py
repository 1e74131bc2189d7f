"""The README's CI examples work as written, on the demo data `make run` seeds."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from runs.models import Build, TestRun
from runs.services.tokens import token_create
from tests.junit_reports import JUNIT

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def _curl_commands() -> list[str]:
    """Every `curl` command of the README's shell blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        commands += [line.strip() for line in joined.splitlines() if line.startswith("curl ")]
    return commands


def test_the_readme_has_the_upload_and_the_build_examples():
    commands = _curl_commands()
    assert any("/api/v1/runs" in c for c in commands)
    assert any("/api/v1/builds" in c for c in commands)


def test_each_curl_example_of_the_readme_succeeds_on_the_demo_data(live_server, operator, tmp_path):
    call_command("seed_demo", password="demo-in-tests", stdout=open("/dev/null", "w"))  # noqa: SIM115
    _, secret = token_create(user=operator, name="ci")
    shutil.copy(JUNIT / "pytest-fail.xml", tmp_path / "junit.xml")
    with gzip.open(tmp_path / "more.xml.gz", "wb") as out:
        out.write((JUNIT / "mocha.xml").read_bytes())
    runs_before = TestRun.objects.count()

    for command in _curl_commands():
        command = command.replace("http://127.0.0.1:8000", live_server.url)
        done = subprocess.run(
            ["bash", "-c", command + " -sS -w '\\n%{http_code}'"],
            cwd=tmp_path,
            env={"TOKEN": secret, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        body, _, status = done.stdout.rpartition("\n")
        assert done.returncode == 0, done.stderr
        assert status in {"200", "201", "202"}, f"{command}\n{status} {body}"
        json.loads(body)

    run = TestRun.objects.order_by("-pk").first()
    assert TestRun.objects.count() == runs_before + 1
    assert run.suite.service.name == "payments-api" and run.suite.name == "api-contract"
    assert run.total == 5 + 109
    assert Build.objects.filter(service__name="demo-chat", image="stageloop-demo:1.4.1").exists()
