"""Fixtures for the deploy targets: a fake Cloud Run API, tiny apps, and a log collector."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.cloudrun_api import FakeCloudRun

PYTHON = sys.executable

# A tiny web app: serves its revision and image; /healthz answers 200 in mode "ok", 503 in mode
# "never" (which also starts a grandchild, to show the whole group is stopped); "exit" dies at once.
# /env answers the whole environment the revision got, as JSON.
APP = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    mode, pid_dir = sys.argv[1], sys.argv[2]
    revision = os.environ["STAGELOOP_REVISION"]
    pids = [os.getpid()]
    if mode == "never":
        pids.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]).pid)
    with open(os.path.join(pid_dir, revision + ".pids"), "w") as f:
        f.write(" ".join(map(str, pids)))
    print("booting", revision, flush=True)
    if mode == "exit":
        print("boom: DATABASE_URL is not set", flush=True)
        sys.exit(3)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            ok = mode == "ok" or self.path != "/healthz"
            keys = ("STAGELOOP_REVISION", "STAGELOOP_IMAGE", "STAGELOOP_COMMIT", "GREETING")
            body = " ".join(os.environ[k] for k in keys).encode()
            if self.path == "/env":
                body = json.dumps(dict(os.environ)).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
    """
)


# What a deploy command may get from the dashboard's own environment without being told: a copy
# of the allowlist on purpose, so that widening it shows up here.
BASE_ENV = {
    *("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ"),
    *("TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV", "SYSTEMROOT"),
    *("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"),
    *("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"),
}

# The dashboard's secrets, and the cloud credentials it holds for the cloudrun target.
DASHBOARD_SECRETS = {
    "SECRET_KEY": "django-insecure-leak-me",
    "DATABASE_URL": "postgres://stageloop:hunter2@db/stageloop",
    "CELERY_BROKER_URL": "redis://:hunter2@redis:6379/0",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/dashboard-sa.json",
    "CLOUDSDK_CONFIG": "/secrets/gcloud",
    "STAGELOOP_HOST": "0.0.0.0",
}


@pytest.fixture
def dashboard_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The dashboard's environment: its secrets, a token a deploy may be given, the locale."""
    for key, value in DASHBOARD_SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DEPLOY_TOKEN", "t0k3n")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_TIME", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    return dict(os.environ)


def unexplained(seen: dict[str, str], *explained: str) -> set[str]:
    """Variables a child saw that are neither allowlisted nor given to it on purpose."""
    return {
        key
        for key in seen
        if key not in BASE_ENV and not key.startswith("LC_") and key not in explained
    }


@pytest.fixture
def cloudrun_api() -> Iterator[FakeCloudRun]:
    """A running fake Cloud Run Admin API with service web in project p, region europe-west1."""
    fake = FakeCloudRun()
    fake.add_service("p", "europe-west1", "web", "registry/web:1")
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def app_script(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(APP)
    return path


class LogLines(list[str]):
    """Collects what a target logs; call it like the log callback."""

    def __call__(self, line: str) -> None:
        self.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
def log() -> LogLines:
    return LogLines()


def process_gone(pid: int, within: float = 5.0) -> bool:
    """True once ``pid`` no longer runs (a zombie nobody reaped counts as gone)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False
