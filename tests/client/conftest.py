"""The client against a real Stageloop: live_server, a real token, the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from runs.services.tokens import token_create
from tests.factories import ServiceFactory

CLIENT_SRC = Path(__file__).resolve().parents[2] / "client" / "src"


@dataclass
class Server:
    url: str
    token: str


def client_env(**extra: str) -> dict[str, str]:
    """The environment a CI job would have: the client on the path, nothing of this test run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STAGELOOP_", "DJANGO_", "PYTEST_"))
    }
    env["PYTHONPATH"] = str(CLIENT_SRC)
    env.update(extra)
    return env


@pytest.fixture
def server(live_server, operator) -> Server:
    ServiceFactory(name="payments")
    _token, secret = token_create(user=operator, name="ci")
    return Server(url=live_server.url, token=secret)


def run_stageloop(
    *args: str, url: str, token: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess:
    """Run `python -m stageloop ARGS` as a CI job would; returns the CompletedProcess."""
    environment = client_env(STAGELOOP_URL=url, STAGELOOP_TOKEN=token)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "stageloop", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def stageloop(server, tmp_path):
    """Run the CLI against the live server."""

    def _run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        return run_stageloop(*args, url=server.url, token=server.token, cwd=cwd or tmp_path, **env)

    return _run


def suite_command(*args: str) -> list[str]:
    """A suite's command, as `stageloop run -- ...` gets it."""
    return ["--", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


SUITE = """
import pathlib

COUNTER = pathlib.Path(__file__).with_name("flaky-count")


def test_adds():
    assert 1 + 1 == 2


def test_greets():
    assert "hello".title() == "Hello"


def test_flaky_first_time():
    runs = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(runs + 1))
    assert runs > 0, "fails the first time only"
"""

BROKEN = """

def test_broken():
    assert {"total": 3} == {"total": 4}
"""


@pytest.fixture
def suite_dir(tmp_path) -> Path:
    """A real pytest suite: two passing tests and a test that fails its first run only."""
    root = tmp_path / "suite"
    root.mkdir()
    (root / "test_checkout.py").write_text(SUITE)
    return root
