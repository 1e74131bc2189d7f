"""`make serve`, the production command: gunicorn with DEBUG=0, no demo, the first admin made
explicitly; its web, worker and beat are the bin/ scripts docker-compose.yml runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.dashboard.processes import ctrl_c, free_port

ROOT = Path(__file__).resolve().parents[2]

# `make serve` gets its own settings (its own SQLite, no broker URL) whatever the pass's mode.
pytestmark = [pytest.mark.slow, pytest.mark.mode_free]


def _env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "VIRTUAL_ENV"}
        and not k.startswith(("PYTEST", "DJANGO", "STAGELOOP_"))
    }
    env.update(
        STAGELOOP_VAR_DIR=str(var_dir),
        SECRET_KEY="production-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1",
        SESSION_COOKIE_SECURE="0",
        WEB_CONCURRENCY="1",
        STAGELOOP_WORKER_CONCURRENCY="1",
        **extra,
    )
    return env


def _wait_for(url: str, proc: subprocess.Popen, within: float = 120) -> httpx.Response:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.5)
    out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None else ""
    pytest.fail(f"{url} never answered\n{out[-3000:]}")


def test_make_serve_runs_gunicorn_without_debug_or_demo_and_the_first_admin_is_explicit(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = _env(tmp_path / "var", STAGELOOP_BIND=f"127.0.0.1:{port}")
    proc = subprocess.Popen(
        ["make", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        login = _wait_for(f"{base}/login/", proc, within=400)  # collectstatic compresses first
        assert login.status_code == 200
        assert login.headers["server"].startswith("gunicorn")
        missing = httpx.get(f"{base}/no-such-page/", timeout=5)
        assert missing.status_code == 404
        assert "Django tried these URL patterns" not in missing.text  # no debug page
        css = httpx.get(f"{base}/static/css/stageloop.css", timeout=5)
        assert css.status_code == 200  # collected and served by whitenoise without DEBUG

        db = tmp_path / "var" / "stageloop.sqlite3"
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM auth_user").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM runs_service").fetchone() == (0,)

        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "manage.py",
                "createsuperuser",
                "--no-input",
                "--username",
                "root-admin",
                "--email",
                "admin@example.com",
            ],
            cwd=ROOT,
            env={**env, "DEBUG": "0", "DJANGO_SUPERUSER_PASSWORD": "a-long-admin-password-42"},
            check=True,
            capture_output=True,
        )
        with httpx.Client(base_url=base, timeout=5) as client:
            client.get("/login/")
            answer = client.post(
                "/login/",
                data={
                    "username": "root-admin",
                    "password": "a-long-admin-password-42",
                    "csrfmiddlewaretoken": client.cookies["csrftoken"],
                },
                headers={"Referer": f"{base}/login/"},
            )
            assert answer.status_code == 302 and answer.headers["location"] == "/"
            assert client.get("/").status_code == 200
    finally:
        output = ctrl_c(proc, "make serve")
    for name in ("web.1", "worker.1", "beat.1"):
        assert f"{name} " in output or f"{name}|" in output, output[-3000:]
    assert "celery@" in output or "worker@" in output
    assert "stageloop-demo" not in output
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_make_serve_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = _env(tmp_path / "var")
    del env["SECRET_KEY"]
    done = subprocess.run(["make", "serve"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode != 0
    assert b"SECRET_KEY is not set" in done.stdout + done.stderr


def test_seed_demo_refuses_the_published_password_outside_debug(tmp_path: Path) -> None:
    env = _env(tmp_path / "var", DEBUG="0")
    python = str(ROOT / ".venv" / "bin" / "python")
    for extra in ([], ["--password", "stageloop-demo"]):
        done = subprocess.run(
            [python, "manage.py", "seed_demo", *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 1
        assert b"only the demo may have" in done.stderr or b"published in the README" in (
            done.stderr
        ), done.stderr
