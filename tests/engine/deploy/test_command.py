"""The command target: the operator's deploy script, its output streamed, its last line parsed."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine.deploy import DeployError, DeployRequest, get_target
from engine.deploy.command import CommandTarget
from tests.engine.deploy.conftest import (
    DASHBOARD_SECRETS,
    PYTHON,
    LogLines,
    process_gone,
    unexplained,
)


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "deploy.py"
    path.write_text("import json, os, subprocess, sys, time\n" + textwrap.dedent(body))
    return [PYTHON, str(path)]


def command_target(argv: list[str], tmp_path: Path, **overrides: Any) -> CommandTarget:
    target = get_target("command", {"command": argv, "cwd": str(tmp_path), **overrides})
    assert isinstance(target, CommandTarget)
    return target


def request() -> DeployRequest:
    return DeployRequest(
        service="web", image="registry/web:7", commit="c0ffee", revision_name="web-7"
    )


def test_it_runs_the_command_and_reads_the_revision_from_its_last_line(
    tmp_path: Path, log: LogLines
) -> None:
    argv = script(
        tmp_path,
        """
        keys = ("IMAGE", "COMMIT", "SERVICE", "REVISION")
        env = {k: os.environ[k] for k in ["TEAM", *("STAGELOOP_" + key for key in keys)]}
        print("pushing", env["STAGELOOP_IMAGE"], flush=True)
        print(json.dumps(env))
        print()
        print(json.dumps({"revision": env["STAGELOOP_REVISION"] + "-x", "url": "https://web.test",
                          "region": "eu"}))
        """,
    )
    operations: list[str] = []

    info = command_target(argv, tmp_path, env={"TEAM": "qa"}).deploy(
        request(), log=log, on_operation=operations.append
    )

    assert (info.name, info.url, info.status) == ("web-7-x", "https://web.test", "ready")
    assert info.extra == {"region": "eu"}
    assert log[0] == "pushing registry/web:7"
    assert json.loads(log[1]) == {
        "STAGELOOP_IMAGE": "registry/web:7",
        "STAGELOOP_COMMIT": "c0ffee",
        "STAGELOOP_SERVICE": "web",
        "STAGELOOP_REVISION": "web-7",
        "TEAM": "qa",
    }
    assert operations and operations[0].startswith("pid:")


PRINT_ENV = """
print(json.dumps(dict(os.environ)))
print(json.dumps({"revision": os.environ["STAGELOOP_REVISION"], "url": ""}))
"""


def test_the_command_gets_an_allowlist_of_the_dashboards_environment_not_its_secrets(
    tmp_path: Path, log: LogLines, dashboard_env: dict
) -> None:
    target = command_target(
        script(tmp_path, PRINT_ENV),
        tmp_path,
        env={"TEAM": "qa", "STAGELOOP_IMAGE": "spoofed"},
        pass_env=["DEPLOY_TOKEN", "NOT_SET_ANYWHERE"],
    )

    target.deploy(request(), log=log)
    seen = json.loads(log[0])

    # Cloud credentials too: a deploy command gets them only when pass_env lists them.
    assert not set(DASHBOARD_SECRETS) & set(seen)
    assert seen["TEAM"] == "qa"  # the target's configured env
    assert seen["DEPLOY_TOKEN"] == "t0k3n"  # listed in pass_env
    assert "NOT_SET_ANYWHERE" not in seen
    assert seen["STAGELOOP_IMAGE"] == "registry/web:7"  # the target's own values win
    assert seen["PYTHONUNBUFFERED"] == "1"  # its output reaches the log in order
    assert (seen["PATH"], seen["LANG"], seen["LC_TIME"], seen["TZ"]) == (
        dashboard_env["PATH"],
        "C.UTF-8",
        "C.UTF-8",
        "UTC",
    )
    assert not unexplained(
        seen,
        *("TEAM", "DEPLOY_TOKEN", "PYTHONUNBUFFERED"),
        *("STAGELOOP_IMAGE", "STAGELOOP_COMMIT", "STAGELOOP_SERVICE", "STAGELOOP_REVISION"),
    )


def test_cloud_credentials_reach_the_command_when_pass_env_lists_them(
    tmp_path: Path, log: LogLines, dashboard_env: dict
) -> None:
    names = ["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG"]
    target = command_target(script(tmp_path, PRINT_ENV), tmp_path, pass_env=names)

    target.deploy(request(), log=log)
    seen = json.loads(log[0])

    assert {name: seen.get(name) for name in names} == {n: dashboard_env[n] for n in names}
    assert "SECRET_KEY" not in seen and "DATABASE_URL" not in seen


def test_the_traffic_command_gets_the_same_allowlist(tmp_path: Path, dashboard_env: dict) -> None:
    out = tmp_path / "traffic-env.json"
    traffic = script(tmp_path, f"open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))\n")
    target = command_target(
        [PYTHON, "-c", "pass"], tmp_path, traffic_command=traffic, env={"TEAM": "qa"}
    )

    target.set_traffic("web-7", 10, tag="canary")
    seen = json.loads(out.read_text())

    assert not set(DASHBOARD_SECRETS) & set(seen)
    assert seen["TEAM"] == "qa"
    assert not unexplained(
        seen,
        *("TEAM", "PYTHONUNBUFFERED"),
        *("STAGELOOP_REVISION", "STAGELOOP_TRAFFIC_PERCENT", "STAGELOOP_TRAFFIC_TAG"),
    )


def test_a_failing_command_raises_with_its_output_tail(tmp_path: Path, log: LogLines) -> None:
    argv = script(
        tmp_path,
        """
        for n in range(30):
            print("step", n)
        print("ERROR: image registry/web:7 not found", file=sys.stderr)
        sys.exit(2)
        """,
    )

    with pytest.raises(DeployError) as caught:
        command_target(argv, tmp_path).deploy(request(), log=log)

    message = str(caught.value)
    assert "exit code 2" in message
    assert "ERROR: image registry/web:7 not found" in message
    assert "step 29" in message and "step 5\n" not in message  # only the tail
    assert len(log) == 31


def test_a_last_line_that_is_not_the_json_contract_is_an_error(
    tmp_path: Path, log: LogLines
) -> None:
    argv = script(tmp_path, 'print("deployed!")\n')

    with pytest.raises(DeployError, match=r'last output line is not \{"revision"') as caught:
        command_target(argv, tmp_path).deploy(request(), log=log)

    assert "deployed!" in str(caught.value)


def test_a_timeout_stops_the_command_and_everything_it_started(
    tmp_path: Path, log: LogLines
) -> None:
    pid_file = tmp_path / "pids"
    argv = script(
        tmp_path,
        f"""
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pid_file)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        print("waiting for rollout", flush=True)
        time.sleep(60)
        """,
    )

    with pytest.raises(DeployError, match=r"timed out after 0\.5 s") as caught:
        command_target(argv, tmp_path, timeout=0.5).deploy(request(), log=log)

    assert "waiting for rollout" in str(caught.value)
    assert all(process_gone(int(pid)) for pid in pid_file.read_text().split())


def test_it_refuses_a_shell_string(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="list of arguments"):
        get_target("command", {"command": "gcloud run deploy web --image $IMAGE"})


def test_traffic_moves_through_the_traffic_command_when_configured(tmp_path: Path) -> None:
    out = tmp_path / "traffic.txt"
    traffic = script(
        tmp_path,
        f"""
        keys = ("STAGELOOP_REVISION", "STAGELOOP_TRAFFIC_PERCENT", "STAGELOOP_TRAFFIC_TAG")
        open({str(out)!r}, "a").write(" ".join(os.environ[k] for k in keys) + "\\n")
        """,
    )
    target = command_target([PYTHON, "-c", "pass"], tmp_path, traffic_command=traffic)

    assert target.set_traffic("web-7", 10, tag="canary") == {"web-7": 10}
    assert target.rollback("web-6") == {"web-6": 100}
    assert out.read_text().splitlines() == ["web-7 10 canary", "web-6 100 "]


def test_without_a_traffic_command_rollback_says_what_to_configure(tmp_path: Path) -> None:
    target = command_target([PYTHON, "-c", "pass"], tmp_path)

    with pytest.raises(DeployError, match="traffic_command"):
        target.rollback("web-6")


def test_traffic_is_read_with_the_read_traffic_command(tmp_path: Path) -> None:
    reader = script(
        tmp_path, 'print("checking"); print(\'{"traffic": {"web-6": 90, "web-7": 10}}\')'
    )
    target = command_target([PYTHON, "-c", "pass"], tmp_path, read_traffic_command=reader)

    assert target.traffic() == {"web-6": 90, "web-7": 10}


def test_without_a_reader_traffic_is_what_the_last_command_reported(tmp_path: Path) -> None:
    deploy = script(
        tmp_path, 'print(\'{"revision": "web-7", "url": "", "traffic": {"web-7": 100}}\')'
    )
    target = command_target(deploy, tmp_path, traffic_command=[PYTHON, "-c", "pass"])
    with pytest.raises(DeployError, match="read_traffic_command"):
        target.traffic()  # nothing reported yet: it says so rather than guess

    target.deploy(DeployRequest(service="web", image="web:7"), log=lambda line: None)
    assert target.traffic() == {"web-7": 100}
    target.rollback("web-6")
    assert target.traffic() == {"web-6": 100}
