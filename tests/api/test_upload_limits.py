"""An over-limit upload is refused before it is read: from Content-Length at once, and while
streaming when the size is not announced. Nothing is stored."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runs.models import Suite, TestRun
from runs.services.tokens import token_create
from tests.api.test_errors import assert_error
from tests.dashboard.processes import free_port
from tests.factories import ServiceFactory

ROOT = Path(__file__).resolve().parents[2]
REPORT = b'<testsuite name="s"><testcase classname="c" name="t"/></testsuite>'


@pytest.fixture
def auth(operator) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=operator, name='ci')[1]}"}


class Counting(io.BytesIO):
    """A file whose bytes the test can count as the server reads them."""

    def __init__(self, size: int) -> None:
        super().__init__(b"<testsuite>" + b" " * size + b"</testsuite>")
        self.name = "big.xml"


@pytest.mark.django_db
def test_a_file_over_the_limit_is_a_413_naming_the_limit_and_nothing_is_stored(
    client, auth, settings
):
    settings.INGEST_MAX_BYTES = 64 * 1024
    service = ServiceFactory(name="web")
    Suite.objects.create(service=service, name="e2e")

    response = client.post(
        "/api/v1/runs",
        {"service": "web", "suite": "e2e", "files": Counting(1024 * 1024)},
        **auth,
    )

    body = assert_error(response, 413, "too_large")
    assert "64 KB" in body["error"] or "65536" in body["error"]
    assert not TestRun.objects.exists()


@pytest.mark.django_db
def test_the_upload_page_refuses_a_file_over_the_limit_with_a_413_page(login, operator, settings):
    settings.INGEST_MAX_BYTES = 64 * 1024
    suite = Suite.objects.create(service=ServiceFactory(name="web"), name="e2e")

    response = login(operator).post(f"/suites/{suite.pk}/upload", {"files": Counting(1024 * 1024)})

    assert response.status_code == 413
    assert "too large" in response.content.decode().lower()
    assert not TestRun.objects.exists()


@pytest.mark.django_db
def test_a_small_upload_still_works(client, auth):
    service = ServiceFactory(name="web")
    Suite.objects.create(service=service, name="e2e")
    report = io.BytesIO(REPORT)
    report.name = "ok.xml"

    response = client.post(
        "/api/v1/runs", {"service": "web", "suite": "e2e", "files": report}, **auth
    )

    assert response.status_code == 201, response.content


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.settimeout(5)
            sock.sendall(b"GET /static/none HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


@pytest.fixture
def gunicorn(tmp_path):
    """The production server (gunicorn) with a 1 MB request limit; the database is never
    reached by a refused upload, so none is set up."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "SECRET_KEY": "x" * 50,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STAGELOOP_VAR_DIR": str(tmp_path),
        "STAGELOOP_UPLOAD_MAX_BYTES": str(1024 * 1024),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Ready once a worker answers, not once the arbiter listens: a worker still importing the
    # app on a busy machine would otherwise eat into the refusal's own timeout below.
    deadline = time.monotonic() + 60
    while not _answers(port):
        assert proc.poll() is None, f"gunicorn exited with {proc.returncode}"
        assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
        time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.mode_free  # gunicorn on an SQLite file it never reaches, whatever the mode
@pytest.mark.parametrize("path", ["/api/v1/runs", "/suites/1/upload"])
def test_a_huge_announced_upload_is_refused_from_its_content_length_at_once(gunicorn, path):
    with socket.create_connection(("127.0.0.1", gunicorn), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer slp_whatever\r\n"
            "Content-Type: multipart/form-data; boundary=XyZ\r\n"
            f"Content-Length: {1024**3}\r\n\r\n".encode()
            + b"--XyZ\r\n"
        )
        # Only the headers and 7 bytes of the body were sent: an answer proves that the server
        # refused from the header without waiting for the body (bench/uploads.py times it).
        answer = sock.recv(65536).decode(errors="replace")

    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert "Connection: close" in answer
