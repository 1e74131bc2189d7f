"""Each malformed environment value stops start-up with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    clean.update({"DEBUG": "1", "STAGELOOP_VAR_DIR": str(tmp_path), **env})
    clean["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "0", "SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL='mysql://root@localhost/x'"),
        (
            {"DATABASE_URL": "postgres://u:hunter2@db/x", "CELERY_BROKER_URL": "kafka://x"},
            "CELERY_BROKER_URL='kafka://x' is not a supported URL",
        ),
        ({"CSRF_TRUSTED_ORIGINS": "stageloop.example.com"}, "CSRF_TRUSTED_ORIGINS holds"),
        (
            {"STAGELOOP_INGEST_MAX_BYTES": "lots"},
            "STAGELOOP_INGEST_MAX_BYTES='lots' is not an integer",
        ),
        ({"STAGELOOP_HEARTBEAT_INTERVAL": "0"}, "STAGELOOP_HEARTBEAT_INTERVAL=0 is too small"),
    ],
)
def test_it_refuses_to_start_with_a_malformed_value(tmp_path, env, expected):
    result = _start(tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert expected in result.stderr


def test_it_never_prints_a_database_password_in_an_error(tmp_path):
    result = _start(tmp_path, DATABASE_URL="mysql://root:hunter2@localhost/x")

    assert result.returncode != 0
    assert "hunter2" not in result.stderr
    assert "mysql://root:***@localhost/x" in result.stderr


def test_it_starts_embedded_with_defaults_in_debug(tmp_path):
    result = _start(tmp_path)

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_it_gives_sqlite_a_busy_timeout_so_web_and_worker_can_share_it(tmp_path):
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['timeout'])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    clean.update(
        DEBUG="1", STAGELOOP_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="dashboard.settings"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 10
