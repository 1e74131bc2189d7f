"""The broker or the database stops while a real worker runs a deploy-and-test chain.

A local-target service (a tiny HTTP server) and a suite that takes a few seconds, a real Celery
worker and the sweeper as the test's beat (a process of its own that sweeps every few seconds),
all on the test's private Redis and PostgreSQL (tests/faults/servers.py):

- Redis stops mid-chain: the chain needs only the database, so it finishes and records what
  happened, its lease is renewed all along, nothing is marked lost; once Redis is back the worker
  takes new work again.
- PostgreSQL stops mid-deploy or mid-run, then starts again: the deploy and its run end in a final
  state that says what happened soon after the database returns (the chain's own ending if it
  reaches the database, else the sweeper once the lease ran out), what the deploy or the run
  started is stopped, and the service takes a new deploy.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.faults.conftest import ROOT, Stageloop, wait_for
from tests.loop.conftest import process_alive

pytestmark = pytest.mark.slow

# Short periods, so a lost lease shows within seconds (the worker and the beat read these).
LEASES = {
    "STAGELOOP_LEASE_SECONDS": "8",
    "STAGELOOP_LEASE_RENEW_SECONDS": "2",
    "STAGELOOP_SWEEP_INTERVAL": "2",
}
FINAL_WITHIN = 60  # seconds from the database's return to every row being final

# The revision: slow to become healthy (printing while it warms up, so the deploy's log is
# written to the database) while the file "hold-deploy" exists next to it.
SERVER = """
import os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
hold = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hold-deploy")
while os.path.exists(hold):
    print("warming up", flush=True)
    time.sleep(0.5)
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""

# The suite: takes SUITE_SECONDS (or as long as the file "hold-run" exists), then reports two
# passing tests as JUnit XML where the runner asks.
SUITE = """
import os, sys, time
hold = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hold-run")
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline or os.path.exists(hold):
    print("testing", flush=True)
    time.sleep(0.5)
with open(os.environ["STAGELOOP_JUNIT_PATH"], "w") as report:
    report.write(
        '<testsuite name="tiny" tests="2">'
        '<testcase classname="tiny" name="test_home" time="1"/>'
        '<testcase classname="tiny" name="test_health" time="1"/>'
        "</testsuite>"
    )
"""

SETUP = """
import sys
from runs.models import Build, Service, Suite

service = Service.objects.create(
    name="tiny",
    target_kind=Service.TargetKind.LOCAL,
    target_config={{
        "command": [sys.executable, {server!r}],
        "cwd": {folder!r},
        "start_timeout": 600,
        "state_dir": {state!r},
    }},
    health_path="/healthz",
    default_image="tiny:1",
)
Suite.objects.create(
    service=service,
    name="tiny",
    command=[sys.executable, {suite!r}, "{seconds}"],
    working_dir={folder!r},
    timeout_seconds=600,
)
Build.objects.create(service=service, image="tiny:1", commit_sha="abc1234")
"""

DEPLOY = """
from runs.models import Service
from runs.services.deploys import deploy_and_test_create

deploy, run = deploy_and_test_create(service=Service.objects.get(name="tiny"), image="{image}")
print("DEPLOY", deploy.pk, run.pk)
"""

# The test's beat: runs_sweep every STAGELOOP_SWEEP_INTERVAL seconds, through any outage.
BEAT = """
import time
from django.conf import settings
from django.db import connection
from runs.services.sweeper import runs_sweep

while True:
    try:
        report = runs_sweep()
        print("SWEEP lost", report.lost_deploys, report.lost_runs, flush=True)
    except Exception as exc:
        print("SWEEP failed", repr(exc)[:200], flush=True)
        connection.close()
    time.sleep(settings.SWEEP_INTERVAL)
"""


class Database:
    """Reads the rows of a Stageloop's database from the test, on SQLite or PostgreSQL."""

    def __init__(self, app: Stageloop) -> None:
        self.url = app.env.get("DATABASE_URL")
        self.path = app.var / "stageloop.sqlite3"

    def rows(self, sql: str, *params) -> list[tuple]:
        if self.url:
            with psycopg.connect(self.url, connect_timeout=5) as db:
                return db.execute(sql, params).fetchall()
        with contextlib.closing(sqlite3.connect(self.path, timeout=20)) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    def row(self, table: str, pk: int, *columns: str) -> tuple:
        (found,) = self.rows(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s",  # noqa: S608
            pk,
        )
        return found

    def answers(self) -> bool:
        try:
            self.rows("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True


def _installation(app: Stageloop, tmp_path: Path, *, seconds: float) -> Path:
    """The tiny service and its suite, and the short lease periods; returns their folder."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "server.py").write_text(SERVER)
    (folder / "suite.py").write_text(SUITE)
    app.env.update(LEASES)
    app.shell(
        SETUP.format(
            server=str(folder / "server.py"),
            suite=str(folder / "suite.py"),
            folder=str(folder),
            state=str(tmp_path / "local-deploy"),
            seconds=seconds,
        )
    )
    return folder


def _deploy(app: Stageloop, image: str) -> tuple[int, int]:
    out = app.shell(DEPLOY.format(image=image))
    deploy_id, run_id = out.split("DEPLOY", 1)[1].split()[:2]
    return int(deploy_id), int(run_id)


@contextlib.contextmanager
def _beat(app: Stageloop, tmp_path: Path):
    """The sweeper, as the beat would run it, in a process of its own; its output in a file."""
    log = tmp_path / "beat.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", BEAT],
            cwd=ROOT,
            env=app.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _stop_revisions(db: Database) -> None:
    """Stop every local revision process the test's worker started."""
    with contextlib.suppress(Exception):
        for (state,) in db.rows("SELECT target_state FROM runs_revision"):
            pid = (state if isinstance(state, dict) else json.loads(state or "{}")).get("pid")
            if pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


def _final(db: Database, deploy_id: int, run_id: int) -> bool:
    deploy = db.row("runs_deploy", deploy_id, "status")[0]
    run = db.row("runs_testrun", run_id, "status")[0]
    return deploy not in ("queued", "running") and run not in ("queued", "running")


def test_redis_stopping_mid_chain_does_not_stop_the_chain(stageloop, private_redis, tmp_path):
    db = Database(stageloop)
    _installation(stageloop, tmp_path, seconds=12)
    try:
        with stageloop.worker(), _beat(stageloop, tmp_path) as beat:
            deploy_id, run_id = _deploy(stageloop, "tiny:1")
            assert wait_for(
                lambda: db.row("runs_deploy", deploy_id, "status")[0] != "queued", timeout=60
            ), "the worker never took the deploy"
            private_redis.stop()
            stopped = time.monotonic()

            # The run starts and its lease is renewed while the broker is down.
            assert wait_for(
                lambda: db.row("runs_testrun", run_id, "status")[0] == "running", timeout=60
            ), db.row("runs_deploy", deploy_id, "status", "error")
            first = db.row("runs_testrun", run_id, "lease_expires_at")[0]
            assert wait_for(
                lambda: db.row("runs_testrun", run_id, "lease_expires_at")[0] > first, timeout=10
            ), "the run's lease was not renewed while Redis was down"

            assert wait_for(lambda: _final(db, deploy_id, run_id), timeout=60)
            assert private_redis.running is False, "Redis came back before the chain ended"
            down_for = time.monotonic() - stopped
            deploy = db.row("runs_deploy", deploy_id, "status", "error")
            run = db.row("runs_testrun", run_id, "status", "error", "total", "passed")
            assert deploy == ("succeeded", ""), deploy
            assert run == ("passed", "", 2, 2), run
            # The sweeper swept all along and took nothing away from the live worker.
            time.sleep(3)
            assert "SWEEP lost 0 0" in beat.read_text(), beat.read_text()
            assert "lost 1" not in beat.read_text(), beat.read_text()
            assert not db.rows(
                "SELECT id FROM runs_deploy WHERE status IN ('lost', 'running') "
                "UNION ALL SELECT id FROM runs_testrun WHERE status IN ('lost', 'running')"
            )

            # Redis returns: the worker takes new work again.
            private_redis.start()
            second, second_run = _deploy(stageloop, "tiny:2")
            assert wait_for(lambda: _final(db, second, second_run), timeout=60), db.row(
                "runs_deploy", second, "status", "error"
            )
            assert db.row("runs_deploy", second, "status")[0] == "succeeded"
            assert db.row("runs_testrun", second_run, "status")[0] == "passed"
        print(f"\n[outage] Redis down {down_for:.1f} s while the chain ran; chain finished")
    finally:
        _stop_revisions(db)


@pytest.mark.mode_free  # its own PostgreSQL and Redis whatever the pass's mode
@pytest.mark.parametrize("outage", ["restart", "long"])
@pytest.mark.parametrize("stage", ["deploy", "run"])
def test_postgres_stopping_mid_chain_ends_the_chain_soon_after_it_returns(
    tmp_path, private_postgres, private_redis, stage, outage
):
    """``restart``: stopped and started at once, well within the lease (30 s): the worker is
    alive and the database answers again, so the chain ends its own work, saying why, long before
    the sweeper could take it. ``long``: down for longer than the lease (8 s here), the chain gives
    up ending its rows and the sweeper marks them lost once the database is back."""
    app = Stageloop(tmp_path / "var", private_postgres.createdb("stageloop"), private_redis.url())
    migrated = app.manage("migrate", "--no-input", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    db = Database(app)
    folder = _installation(app, tmp_path, seconds=1)
    if outage == "restart":
        app.env.update(STAGELOOP_LEASE_SECONDS="30", STAGELOOP_LEASE_RENEW_SECONDS="3")
    hold = folder / f"hold-{stage}"
    hold.touch()
    try:
        with app.worker(), _beat(app, tmp_path) as beat:
            deploy_id, run_id = _deploy(app, "tiny:1")
            table = "runs_deploy" if stage == "deploy" else "runs_testrun"
            pk = deploy_id if stage == "deploy" else run_id
            assert wait_for(
                lambda: db.row(table, pk, "status", "child_pgid")[1] is not None, timeout=60
            ), f"the {stage} never started its process"
            (pgid,) = db.row(table, pk, "child_pgid")
            assert process_alive(pgid)
            time.sleep(1)

            private_postgres.stop()
            if outage == "long":
                time.sleep(12)  # longer than the lease: the chain gives up ending its rows
            private_postgres.start()
            back = time.monotonic()
            assert wait_for(db.answers, timeout=30)
            assert wait_for(lambda: _final(db, deploy_id, run_id), timeout=FINAL_WITHIN + 30), (
                db.row("runs_deploy", deploy_id, "status", "error"),
                db.row("runs_testrun", run_id, "status", "error"),
            )
            final_after = time.monotonic() - back
            deploy = db.row("runs_deploy", deploy_id, "status", "error")
            run = db.row("runs_testrun", run_id, "status", "error")
            print(
                f"\n[outage] PostgreSQL stopped ({outage}) mid-{stage}: final {final_after:.1f} s "
                f"after it returned\n  deploy {deploy}\n  run {run}"
            )
            assert final_after <= FINAL_WITHIN
            # What happened is said: the chain's own ending, or the sweeper's.
            if stage == "deploy":
                assert deploy[0] in ("failed", "lost"), deploy
                assert deploy[1].startswith(("Stageloop stopped:", "Lost:")), deploy
                assert run[0] in ("error", "lost"), run
            else:
                assert deploy[0] == "succeeded", deploy
                assert run[0] in ("error", "lost"), run
                assert run[1].startswith(("The deploy-and-test chain", "Lost:")), run
            if outage == "restart":  # the chain's own ending, before the lease could run out
                assert final_after <= 20
                assert deploy[1].startswith("Stageloop stopped:") or stage == "run", deploy
                assert run[0] == "error" and "OperationalError" in run[1], run
            else:  # the sweeper's, the lease having run out during the outage
                assert deploy[0] == "lost" or stage == "run", deploy
                assert run[0] == "lost" and run[1].startswith("Lost:"), run
            # What the step started is stopped.
            assert wait_for(lambda: not process_alive(pgid), timeout=15), f"{pgid} still runs"
            assert not db.rows(
                "SELECT id FROM runs_deploy WHERE status IN ('queued', 'running') "
                "UNION ALL SELECT id FROM runs_testrun WHERE status IN ('queued', 'running')"
            )

            # The service takes a new deploy, and the worker carries it through.
            hold.unlink()
            second, second_run = _deploy(app, "tiny:2")
            assert wait_for(lambda: _final(db, second, second_run), timeout=60), db.row(
                "runs_deploy", second, "status", "error"
            )
            assert db.row("runs_deploy", second, "status")[0] == "succeeded"
            assert db.row("runs_testrun", second_run, "status")[0] == "passed"
        print(beat.read_text()[-1500:])
    finally:
        _stop_revisions(db)
