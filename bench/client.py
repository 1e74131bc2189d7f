"""The stageloop client's overhead on a 1,000-test pytest suite, against a real Stageloop.

    .venv/bin/python bench/client.py [--tests 1000] [--repeat 7]

Starts a real server (`manage.py runserver --noreload` on a fresh SQLite database in a temporary
directory, an operator's token, a service), writes a suite of N passing tests, and times, as
the best of --repeat runs each (other load on the machine only adds time), wall and the
client processes' CPU:

1. pytest alone, writing its JUnit XML (the baseline);
2. pytest with the plugin on (`-p stageloop --stageloop`): the states lookup and the live
   stream into an open live run;
3. `stageloop upload` of that report (the upload);
4. `stageloop run -- pytest` from start to exit (opens a live run, streams, finishes it with
   the report).

Overhead beyond the upload = (4) - (1) - (3). Goal: < 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLIENT_SRC = ROOT / "client" / "src"
PY = sys.executable

SETUP = """
from django.contrib.auth import get_user_model
from runs.models import Service
from runs.roles import OPERATOR
from runs.services.roles import roles_ensure
from runs.services.tokens import token_create
user = get_user_model().objects.create_user(username="bench", password="bench-only-password")
user.groups.add(roles_ensure()[OPERATOR])
Service.objects.create(name="bench", display_name="Bench")
print(token_create(user=user, name="bench")[1])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STAGELOOP_", "DATABASE_"))}
    env.update(
        STAGELOOP_VAR_DIR=str(var),
        DEBUG="1",
        SECRET_KEY="bench-only-secret-key",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    return env


def _client_env(url: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STAGELOOP_", "DJANGO_"))}
    env.update(PYTHONPATH=str(CLIENT_SRC), STAGELOOP_URL=url, STAGELOOP_TOKEN=token)
    return env


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the client's own processes (not the server's)."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:6])}... exited {done.returncode}:\n{done.stdout}{done.stderr}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return elapsed, cpu


def _open_live(url: str, token: str) -> int:
    answer = httpx.post(
        f"{url}/api/v1/runs/live",
        json={"service": "bench", "suite": "unit", "create": True},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    answer.raise_for_status()
    return int(answer.json()["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="stageloop-bench-client-"))
    var = work / "var"
    env = _server_env(var)
    manage = [PY, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT, check=True)
    token = (
        subprocess.run(
            [*manage, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
        .splitlines()[-1]
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/api/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        _bench(args, work, url, token)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path, url: str, token: str) -> None:
    suite = work / "suite"
    suite.mkdir()
    per_file = 100
    for f in range(max(1, args.tests // per_file)):
        body = "".join(f"def test_{i}():\n    assert {i} == {i}\n\n\n" for i in range(per_file))
        (suite / f"test_m{f:03d}.py").write_text(body)
    env = _client_env(url, token)
    report = work / "junit.xml"
    pytest = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "suite"]
    where = ["--service", "bench", "--suite", "unit", "--create"]
    keys = ("pytest", "plugin", "upload", "run")
    wall: dict[str, list[float]] = {key: [] for key in keys}
    cpu: dict[str, list[float]] = {key: [] for key in keys}

    def measure(key: str, cmd: list[str], environment: dict[str, str]) -> None:
        seconds, used = _timed(cmd, environment, work)
        wall[key].append(seconds)
        cpu[key].append(used)

    for i in range(args.repeat):
        measure("pytest", pytest, env)
        live_env = {
            **env,
            "STAGELOOP_SERVICE": "bench",
            "STAGELOOP_SUITE": "unit",
            "STAGELOOP_RUN_ID": str(_open_live(url, token)),
        }
        measure("plugin", [*pytest, "-p", "stageloop"], live_env)
        # A fresh commit per upload, so each is a new run rather than the same files again.
        measure(
            "upload",
            [PY, "-m", "stageloop", "upload", str(report), *where, "--commit", f"c{i}"],
            env,
        )
        measure("run", [PY, "-m", "stageloop", "run", *where, "--", *pytest], env)
    # The best of the repeats: the machine's other load only ever adds time.
    w = {key: min(values) for key, values in wall.items()}
    c = {key: min(values) for key, values in cpu.items()}
    print(f"{args.tests} passing tests, best of {args.repeat} runs, server {url}")
    print("                                        wall      client CPU")
    rows = (
        ("1. pytest alone", "pytest"),
        ("2. pytest + plugin (lookup, stream)", "plugin"),
        ("3. stageloop upload of the report", "upload"),
        ("4. stageloop run -- pytest", "run"),
    )
    for label, key in rows:
        print(f"  {label:<36} {w[key]:6.2f} s   {c[key]:6.2f} s")
    overhead = w["run"] - w["pytest"] - w["upload"]
    cpu_overhead = c["run"] - c["pytest"] - c["upload"]
    verdict = "meets" if overhead < 1.0 else "misses"
    print(
        f"  overhead beyond the upload (4-1-3)   {overhead:6.2f} s   {cpu_overhead:6.2f} s"
        f"   ({verdict} the < 1 s goal)"
    )


if __name__ == "__main__":
    main()
