"""Over-limit uploads against the production server: time to the 413 and the worker's memory.

    .venv/bin/python bench/uploads.py [--size-gb 1]

Starts gunicorn as `make serve` does (DEBUG=0, one sync worker so its memory is one process)
on a migrated PostgreSQL database (DATABASE_URL, default .../stageloop_bench_uploads), with an
Operator's API token, then sends:

1. a 1 GB upload announcing its Content-Length (refused from the header);
2. a 200 MB report file announced under the request limit (refused while streaming, once the
   file passes the 50 MB per-file limit);
3. three 1 GB uploads at once, timing /healthz meanwhile.

Prints seconds to each 413 and the worker's peak RSS over its baseline (VmHWM - VmRSS before).
Targets (issue 13): under 64 MB over baseline and under 1 s before the 413.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._django import setup  # noqa: E402

MB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0: write 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def _send(
    port: int, token: str, length: int, body_bytes: int, file_bytes: int
) -> tuple[float, str]:
    """POST a multipart upload announcing `length`; send up to `body_bytes` of it while the server
    reads; return seconds until the status line arrived and the status line."""
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="big.xml"\r\n'
        b"Content-Type: application/xml\r\n\r\n<testsuite>"
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    started = time.perf_counter()
    sock.sendall(
        (
            f"POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
        + head
    )
    chunk = b" " * MB
    sent = len(head)
    answer = b""
    sock.setblocking(False)
    while sent < min(body_bytes, file_bytes):
        try:
            answer += sock.recv(4096)
            if answer:
                break
        except BlockingIOError:
            pass
        try:
            sent += sock.send(chunk)
        except BlockingIOError:
            time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            break
    sock.setblocking(True)
    try:
        while b"\r\n" not in answer:
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    except (ConnectionResetError, TimeoutError):
        pass
    elapsed = time.perf_counter() - started
    sock.close()
    return elapsed, answer.split(b"\r\n", 1)[0].decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    args = parser.parse_args()
    db = setup("stageloop_bench_uploads")
    from django.contrib.auth.models import User

    from runs.models import Service, Suite
    from runs.roles import OPERATOR
    from runs.services.roles import roles_ensure
    from runs.services.tokens import token_create

    user, _ = User.objects.get_or_create(username="bench-uploader")
    user.groups.add(roles_ensure()[OPERATOR])
    service, _ = Service.objects.get_or_create(name="bench-web")
    Suite.objects.get_or_create(service=service, name="e2e")
    token = token_create(user=user, name="bench")[1]

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "dashboard.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        worker = _worker_pid(server.pid)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        huge = int(args.size_gb * 1024 * MB)
        cases = [
            (f"{args.size_gb:g} GB announced", huge, huge, huge),
            ("200 MB file under the request limit", 200 * MB, 200 * MB, 200 * MB),
        ]
        print(f"{'case':40} {'status':40} {'s to 413':>9} {'peak RSS over base':>20}")
        for name, length, body, file_bytes in cases:
            baseline = _status_kb(worker, "VmRSS")
            _reset_peak(worker)
            elapsed, status = _send(port, token, length, body, file_bytes)
            time.sleep(0.2)
            peak = _status_kb(worker, "VmHWM") - baseline
            print(f"{name:40} {status:40} {elapsed:9.3f} {peak / 1024:17.1f} MB")

        # Three at once, and the health check meanwhile.
        results: list[tuple[float, str]] = []
        threads = [
            threading.Thread(target=lambda: results.append(_send(port, token, huge, huge, huge)))
            for _ in range(3)
        ]
        for t in threads:
            t.start()
        started = time.perf_counter()
        health = httpx.get(f"{base}/healthz", timeout=60)
        health_s = time.perf_counter() - started
        for t in threads:
            t.join()
        print(
            f"3 x {args.size_gb:g} GB at once: statuses {sorted({s for _, s in results})}, slowest "
            f"413 after {max(e for e, _ in results):.3f} s; /healthz meanwhile "
            f"{health.status_code} in {health_s * 1000:.0f} ms"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
