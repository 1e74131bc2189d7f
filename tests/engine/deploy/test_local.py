"""The local target: a child process per revision, health-checked, retired by process group."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.deploy import (
    DeployError,
    DeployRequest,
    RevisionInfo,
    get_target,
    make_revision_name,
)
from engine.deploy.local import LocalTarget
from tests.engine.deploy.conftest import (
    DASHBOARD_SECRETS,
    PYTHON,
    LogLines,
    process_gone,
    unexplained,
)


def local_target(app: Path, mode: str, tmp_path: Path, **overrides: Any) -> LocalTarget:
    config = {
        "command": [PYTHON, str(app), mode, str(tmp_path)],
        "cwd": str(tmp_path),
        "state_dir": str(tmp_path / "state"),
        "start_timeout": 10,
        "poll_interval": 0.05,
        "stop_grace": 2,
        "env": {"GREETING": "hello"},
        **overrides,
    }
    target = get_target("local", config)
    assert isinstance(target, LocalTarget)
    return target


def pids(tmp_path: Path, revision: str) -> list[int]:
    return [int(p) for p in (tmp_path / f"{revision}.pids").read_text().split()]


@pytest.fixture
def retire_all() -> Any:
    """Stops whatever a test left running, even when it failed half-way."""
    started: list[tuple[LocalTarget, RevisionInfo]] = []
    yield started
    for target, info in started:
        target.retire(info)


def test_it_starts_the_revision_on_a_free_port_and_waits_until_healthy(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list
) -> None:
    target = local_target(app_script, "ok", tmp_path)
    operations: list[str] = []
    req = DeployRequest(service="web", image="web:2", commit="abc123")

    info = target.deploy(req, log=log, on_operation=operations.append)
    retire_all.append((target, info))

    assert info.status == "ready"
    assert info.url == f"http://127.0.0.1:{info.extra['port']}"
    assert httpx.get(info.url, timeout=2).text == f"{req.revision_name} web:2 abc123 hello"
    assert operations == [f"pid:{info.extra['pid']}"]
    assert f"booting {req.revision_name}" in log  # the child's output reaches the log
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    assert state[req.revision_name]["pid"] == info.extra["pid"]
    assert target.status(req.revision_name).status == "ready"


def test_the_revision_gets_an_allowlist_of_the_dashboards_environment_not_its_secrets(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list, dashboard_env: dict
) -> None:
    target = local_target(app_script, "ok", tmp_path, pass_env=["DEPLOY_TOKEN", "NOT_SET_ANYWHERE"])
    req = DeployRequest(service="web", image="web:2", commit="abc123", env={"FEATURE": "on"})

    info = target.deploy(req, log=log)
    retire_all.append((target, info))
    seen = httpx.get(info.url + "/env", timeout=2).json()

    assert not set(DASHBOARD_SECRETS) & set(seen)
    assert seen["GREETING"] == "hello"  # the target's configured env
    assert seen["DEPLOY_TOKEN"] == "t0k3n"  # listed in pass_env
    assert "NOT_SET_ANYWHERE" not in seen
    assert seen["FEATURE"] == "on"  # the request's env
    assert (seen["PORT"], seen["STAGELOOP_REVISION"]) == (str(info.extra["port"]), info.name)
    assert (seen["PATH"], seen["LANG"], seen["LC_TIME"], seen["TZ"]) == (
        dashboard_env["PATH"],
        "C.UTF-8",
        "C.UTF-8",
        "UTC",
    )
    assert not unexplained(
        seen,
        *("GREETING", "DEPLOY_TOKEN", "FEATURE", "PORT", "PYTHONUNBUFFERED"),
        *("STAGELOOP_REVISION", "STAGELOOP_IMAGE", "STAGELOOP_COMMIT"),
    )


def test_pass_env_must_be_a_list_of_names(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="pass_env"):
        get_target(
            "local",
            {"command": [PYTHON, "app.py"], "state_dir": str(tmp_path), "pass_env": "SECRET_KEY"},
        )


def test_it_reports_the_output_tail_when_the_command_exits_at_once(
    app_script: Path, tmp_path: Path, log: LogLines
) -> None:
    target = local_target(app_script, "exit", tmp_path)

    with pytest.raises(DeployError) as caught:
        target.deploy(DeployRequest(service="web", image="web:2"), log=log)

    assert "exited with code 3" in str(caught.value)
    assert "boom: DATABASE_URL is not set" in str(caught.value)


def test_it_stops_the_whole_group_of_a_revision_that_never_becomes_healthy(
    app_script: Path, tmp_path: Path, log: LogLines
) -> None:
    target = local_target(app_script, "never", tmp_path, start_timeout=1)
    req = DeployRequest(service="web", image="web:2")

    with pytest.raises(DeployError) as caught:
        target.deploy(req, log=log)

    assert "did not become healthy" in str(caught.value)
    assert "HTTP 503" in str(caught.value)
    assert "booting" in str(caught.value)
    child, grandchild = pids(tmp_path, req.revision_name)
    assert process_gone(child) and process_gone(grandchild)
    assert target.status(req.revision_name).status == "retired"  # never recorded


def test_retire_from_another_worker_stops_the_old_revision_only(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list
) -> None:
    target = local_target(app_script, "ok", tmp_path)
    old = target.deploy(DeployRequest(service="web", image="web:1"), log=log)
    new = target.deploy(DeployRequest(service="web", image="web:2"), log=log)
    retire_all.extend([(target, old), (target, new)])

    # Another worker knows only the revision name; the state file tells it the pid.
    other_worker = local_target(app_script, "ok", tmp_path)
    other_worker.retire(RevisionInfo(name=old.name, url=old.url, status="ready"))

    assert process_gone(old.extra["pid"])
    assert other_worker.status(old.name).status == "retired"
    assert other_worker.status(new.name).status == "ready"


def test_traffic_is_the_revision_that_serves_while_its_process_lives(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list
) -> None:
    target = local_target(app_script, "ok", tmp_path)
    assert target.traffic() == {}
    old = target.deploy(DeployRequest(service="web", image="web:1"), log=log)
    assert target.traffic() == {old.name: 100}
    new = target.deploy(DeployRequest(service="web", image="web:2"), log=log)
    retire_all.extend([(target, old), (target, new)])

    assert local_target(app_script, "ok", tmp_path).traffic() == {new.name: 100}  # any worker
    assert target.set_traffic(old.name) == {old.name: 100}
    assert target.traffic() == {old.name: 100}

    os.kill(old.extra["pid"], signal.SIGKILL)
    assert process_gone(old.extra["pid"])
    assert target.traffic() == {}  # nothing serves: the record must not say otherwise


def test_rollback_to_a_retired_revision_starts_it_again_on_a_new_pid_and_port(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list
) -> None:
    target = local_target(app_script, "ok", tmp_path)
    old = target.deploy(DeployRequest(service="web", image="web:1", commit="abc"), log=log)
    new = target.deploy(DeployRequest(service="web", image="web:2"), log=log)
    retire_all.append((target, new))
    target.retire(old)
    assert process_gone(old.extra["pid"])
    with pytest.raises(DeployError, match="no longer running"):
        target.set_traffic(old.name)  # only a rollback starts a revision again

    assert target.rollback(old.name) == {old.name: 100}

    again = target.status(old.name)
    retire_all.append((target, again))
    assert again.status == "ready"
    assert again.extra["pid"] != old.extra["pid"]
    assert httpx.get(again.url + "/").text == f"{old.name} web:1 abc hello"
    with pytest.raises(DeployError, match="a canary share goes through split"):
        target.set_traffic(new.name, 10)


def test_rollback_to_a_revision_the_state_file_lost_uses_what_the_caller_recorded(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list
) -> None:
    target = local_target(app_script, "ok", tmp_path)
    known = RevisionInfo(name="web-old", url="", status="retired", image="web:0")

    assert target.rollback("web-old", known=known) == {"web-old": 100}

    info = target.status("web-old")
    retire_all.append((target, info))
    assert httpx.get(info.url + "/").text.startswith("web-old web:0")
    with pytest.raises(DeployError, match="no record of what started it"):
        target.rollback("web-unknown")


def test_status_reports_a_crashed_revision_as_failed(
    app_script: Path, tmp_path: Path, log: LogLines, retire_all: list
) -> None:
    target = local_target(app_script, "ok", tmp_path)
    info = target.deploy(DeployRequest(service="web", image="web:1"), log=log)
    retire_all.append((target, info))

    os.kill(info.extra["pid"], signal.SIGKILL)
    assert process_gone(info.extra["pid"])

    status = target.status(info.name)
    assert status.status == "failed"
    assert "not running" in status.extra["reason"]


def test_it_refuses_a_shell_string_command(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="list of arguments"):
        get_target("local", {"command": "python app.py && rm -rf /", "state_dir": str(tmp_path)})


def test_an_unknown_target_kind_is_a_clear_error() -> None:
    with pytest.raises(DeployError, match="unknown deploy target 'k8s'"):
        get_target("k8s", {})


def test_revision_names_are_unique_dns_labels_prefixed_by_the_service() -> None:
    names = {make_revision_name("Web_API") for _ in range(50)}

    assert len(names) == 50
    for name in names | {make_revision_name("x" * 80), make_revision_name("9lives")}:
        assert re.fullmatch(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", name), name
    assert all(name.startswith("web-api-") for name in names)
    assert DeployRequest(service="web", image="i").revision_name.startswith("web-")
