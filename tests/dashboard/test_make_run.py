"""The newcomer's path on a fresh copy: `make run` sets itself up (no dev requirements), serves the
page with a live worker; Deploy and test on the demo ends 34 of 35 with a draft analysis; Ctrl-C
stops web, worker, beat and the demo service the deploy started."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from tests.dashboard.processes import ctrl_c, free_port
from tests.engine.deploy.conftest import process_gone

ROOT = Path(__file__).resolve().parents[2]

DEMO_CHAT_READY = (
    "FROM runs_revision WHERE status = 'ready' "
    "AND service_id = (SELECT id FROM runs_service WHERE name = 'demo-chat')"
)

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.fresh_clone]


def _fresh_copy(target: Path) -> None:
    """Copy what a clone would hold: tracked and new files, nothing ignored (no .venv, no var)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "STAGELOOP_VAR_DIR", "VIRTUAL_ENV"}
        and not k.startswith(("PYTEST", "DJANGO", "STAGELOOP_REQUIRE"))
    }
    env.update(extra)
    return env


def _query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _deploy_and_test(page: Page, base: str, db: Path) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "stageloop-demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click(".service-card[data-service=demo-chat] button.deploy-and-test")
    page.wait_for_url("**/deploys/*/")
    page.locator("#run-status", has_text="Failed").wait_for(timeout=180_000)
    assert page.locator("#deploy-status").inner_text() == "Succeeded"
    page.locator("#deploy-progress h2 a").click()
    counts = page.locator("#run-counts").inner_text()
    assert counts.startswith("35 tests: 34 passed, 1 failed, 0 errors"), counts
    failures = _query(
        db,
        "SELECT message FROM runs_testresult WHERE outcome = 'failed' "
        "AND run_id = (SELECT max(id) FROM runs_testrun)",
    )
    assert len(failures) == 1 and "timeout" in failures[0][0].lower(), failures
    drafts = _query(
        db,
        "SELECT a.id FROM runs_analysis a WHERE a.status = 'draft' AND a.run_id = "
        "(SELECT max(id) FROM runs_testrun)",
    )
    assert len(drafts) >= 1, "no draft analysis was opened for the failure"


def test_a_fresh_copy_runs_the_demo_loop_from_make_run_alone_and_stops_on_ctrl_c(
    tmp_path: Path, page: Page
) -> None:
    copy = tmp_path / "stageloop"
    _fresh_copy(copy)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = copy / "var" / "stageloop.sqlite3"
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=copy,
        env=_clean_env(STAGELOOP_PORT=str(port), STAGELOOP_HEARTBEAT_INTERVAL="2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    demo_pids: list[int] = []
    try:
        served_after = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{base}/login/", timeout=2).status_code == 200:
                    served_after = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert served_after is not None, "the login page never answered"
        print(f"make run: fresh copy to served login page in {served_after:.1f} s")

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _query(
            db, "SELECT 1 FROM dashboard_workerheartbeat"
        ):
            time.sleep(1)
        assert _query(db, "SELECT count(*) FROM dashboard_workerheartbeat") == [(1,)]
        assert not (copy / ".venv" / "bin" / "ruff").exists(), "make run installed dev tools"

        _deploy_and_test(page, base, db)
        demo_pids = [
            json.loads(state)["pid"]
            for (state,) in _query(db, "SELECT target_state " + DEMO_CHAT_READY)
        ]
        assert len(demo_pids) == 1, demo_pids
    finally:
        output = ctrl_c(proc, "make run")
    assert f"Log in at http://127.0.0.1:{port}/ as admin / stageloop-demo" in output
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing of web, worker or beat is left running
    for pid in demo_pids:
        assert process_gone(pid), f"demo service pid {pid} still runs"  # nor the demo service
    assert "Stopped demo-chat revision" in output
    assert _query(db, "SELECT count(*) " + DEMO_CHAT_READY) == [(0,)]
