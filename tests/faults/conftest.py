"""Fault-test fixtures: private servers (tests/faults/servers.py) and a Stageloop of the test's own.

``stageloop`` is a Stageloop installation in a temporary folder, run as real processes
(``manage.py shell``, a Celery worker, gunicorn) against the test's private Redis and, when the
suite runs on PostgreSQL, the test's private PostgreSQL (on SQLite: a SQLite file, as the
embedded mode keeps it). Nothing here touches the machine's shared servers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.servers import free_port, private_postgres, private_redis  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class Stageloop:
    """Run Stageloop's own programs with one environment (database, broker, var folder)."""

    def __init__(self, var: Path, database_url: str | None, broker_url: str) -> None:
        self.var = var
        env = {
            k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}
        }
        env.update(
            DEBUG="1",
            ALLOWED_HOSTS="testserver,127.0.0.1",
            STAGELOOP_VAR_DIR=str(var),
            DJANGO_SETTINGS_MODULE="dashboard.settings",
            CELERY_BROKER_URL=broker_url,
            PYTHONUNBUFFERED="1",
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        self.env = env

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def shell(self, script: str, timeout: float = 180) -> str:
        """Run `script` in ``manage.py shell``; return its stdout (and fail on an exception)."""
        result = self.manage("shell", "-c", script, timeout=timeout)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        self.last_stderr = result.stderr
        return result.stdout

    @contextlib.contextmanager
    def worker(self) -> Iterator[subprocess.Popen]:
        """A real Celery worker (solo pool) of this installation; stopped on exit."""
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--pool=solo",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                self.worker_output = proc.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                self.worker_output = proc.communicate()[0].decode(errors="replace")

    @contextlib.contextmanager
    def gunicorn(self) -> Iterator[str]:
        """gunicorn serving this installation (as bin/web does, one worker); yields its URL."""
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "dashboard.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            import socket

            def up() -> bool:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                except OSError:
                    return False
                return True

            assert wait_for(up, timeout=60), "gunicorn did not start"
            yield f"http://127.0.0.1:{port}"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                self.web_output = proc.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                self.web_output = proc.communicate()[0].decode(errors="replace")


@pytest.fixture
def stageloop(request, tmp_path, private_redis) -> Stageloop:  # noqa: F811
    """A migrated Stageloop on the private Redis (and the private PostgreSQL when the suite runs
    on PostgreSQL; an SQLite file otherwise)."""
    database_url = None
    if ON_POSTGRES:
        database_url = request.getfixturevalue("private_postgres").createdb("stageloop")
    app = Stageloop(tmp_path / "var", database_url, private_redis.url())
    migrated = app.manage("migrate", "--no-input", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    return app
