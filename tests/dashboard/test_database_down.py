"""While the database is down, pages answer a styled 503 and the API a JSON 503, both with
Retry-After; the server itself (gunicorn, as in production) keeps running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.dashboard.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def server_without_database(tmp_path):
    port, dead = free_port(), free_port()  # nothing listens on `dead`
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead}/stageloop",
        "SECRET_KEY": "x" * 50,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STAGELOOP_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/login/", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    yield base
    proc.terminate()
    output = proc.communicate(timeout=20)[0].decode(errors="replace")
    assert "Traceback" not in output.split("Booting worker")[0], output[-3000:]


def test_pages_answer_a_styled_503_with_retry_after(server_without_database):
    # A session cookie makes the page read the database (the session and the user).
    response = httpx.get(f"{server_without_database}/", cookies={"sessionid": "s" * 32}, timeout=30)

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "Database unavailable" in response.text
    assert "try again" in response.text.lower()
    assert "stylesheet" in response.text  # the site's page, not a bare line


def test_the_api_answers_a_json_503_with_retry_after(server_without_database):
    response = httpx.get(
        f"{server_without_database}/api/v1/runs/1",
        headers={"Authorization": "Bearer slp_not-checked-while-down"},
        timeout=30,
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "unavailable"
    assert "database" in body["error"].lower()
