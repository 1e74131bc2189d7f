"""The command target in a gated or canary release: a no-traffic deploy and a traffic split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.deploy import DeployError, DeployRequest
from tests.engine.deploy.conftest import PYTHON, LogLines
from tests.engine.deploy.test_command import command_target, script


def gated_request() -> DeployRequest:
    return DeployRequest(
        service="web",
        image="registry/web:8",
        revision_name="web-8",
        no_traffic=True,
        tag="candidate",
    )


def test_a_no_traffic_deploy_tells_the_command_and_returns_the_candidates_own_url(
    tmp_path: Path, log: LogLines
) -> None:
    argv = script(
        tmp_path,
        """
        keys = ("STAGELOOP_NO_TRAFFIC", "STAGELOOP_TAG", "STAGELOOP_REVISION")
        print(json.dumps({k: os.environ.get(k) for k in keys}))
        print(json.dumps({"revision": "web-8", "url": "https://candidate---web.test"}))
        """,
    )

    info = command_target(argv, tmp_path).deploy(gated_request(), log=log)

    assert json.loads(log[0]) == {
        "STAGELOOP_NO_TRAFFIC": "1",
        "STAGELOOP_TAG": "candidate",
        "STAGELOOP_REVISION": "web-8",
    }
    assert (info.name, info.url) == ("web-8", "https://candidate---web.test")


def test_an_ordinary_deploy_is_not_told_to_take_no_traffic(tmp_path: Path, log: LogLines) -> None:
    argv = script(
        tmp_path,
        """
        print(json.dumps({k: os.environ.get(k) for k in ("STAGELOOP_NO_TRAFFIC", "STAGELOOP_TAG")}))
        print(json.dumps({"revision": "web-8", "url": "https://web.test"}))
        """,
    )

    command_target(argv, tmp_path).deploy(
        DeployRequest(service="web", image="registry/web:8"), log=log
    )

    assert json.loads(log[0]) == {"STAGELOOP_NO_TRAFFIC": None, "STAGELOOP_TAG": None}


def test_a_no_traffic_deploy_without_a_url_is_an_error_that_says_why(
    tmp_path: Path, log: LogLines
) -> None:
    argv = script(tmp_path, 'print(json.dumps({"revision": "web-8"}))\n')

    with pytest.raises(DeployError, match="reachable on its own URL") as caught:
        command_target(argv, tmp_path).deploy(gated_request(), log=log)

    assert '"url"' in str(caught.value)


def split_script(tmp_path: Path, prints: str = "") -> tuple[list[str], Path]:
    out = tmp_path / "split.txt"
    keys = (
        "STAGELOOP_STABLE_REVISION",
        "STAGELOOP_REVISION",
        "STAGELOOP_TRAFFIC_PERCENT",
        "STAGELOOP_TRAFFIC_TAG",
    )
    argv = script(
        tmp_path,
        f"""
        line = " ".join(os.environ[k] for k in {keys!r})
        open({str(out)!r}, "a").write(line + "\\n")
        print("moving traffic")
        {prints}
        """,
    )
    return argv, out


def test_split_runs_the_traffic_command_with_both_revisions_and_the_percent(
    tmp_path: Path,
) -> None:
    traffic, out = split_script(tmp_path)
    target = command_target([PYTHON, "-c", "pass"], tmp_path, traffic_command=traffic)

    assert target.split("web-7", "web-8", 10, tag="candidate") == {"web-8": 10, "web-7": 90}
    assert target.split("web-7", "web-8", 100) == {"web-8": 100}  # no zero shares
    assert target.split("web-7", "web-8", 0) == {"web-7": 100}
    assert out.read_text().splitlines() == [
        "web-7 web-8 10 candidate",
        "web-7 web-8 100 ",
        "web-7 web-8 0 ",
    ]
    assert target.traffic() == {"web-7": 100}  # the last split a command reported


def test_split_returns_the_split_the_traffic_command_prints(tmp_path: Path) -> None:
    traffic, _ = split_script(
        tmp_path, """print('{"traffic": {"web-7": 95, "web-8": 5, "web-6": 0}}')"""
    )
    target = command_target([PYTHON, "-c", "pass"], tmp_path, traffic_command=traffic)

    # The platform rounded the share: what it reports is the split, not what was asked.
    assert target.split("web-7", "web-8", 10) == {"web-7": 95, "web-8": 5}
    assert target.traffic() == {"web-7": 95, "web-8": 5}


def test_a_failing_traffic_command_raises_with_its_last_output(tmp_path: Path) -> None:
    traffic, _ = split_script(
        tmp_path, 'print("ERROR: revision web-8 not found", file=sys.stderr); sys.exit(4)'
    )
    target = command_target([PYTHON, "-c", "pass"], tmp_path, traffic_command=traffic)

    with pytest.raises(DeployError) as caught:
        target.split("web-7", "web-8", 50)

    assert "exit code 4" in str(caught.value)
    assert "ERROR: revision web-8 not found" in str(caught.value)
    assert "moving traffic" in str(caught.value)


def test_split_without_a_traffic_command_says_what_to_configure(tmp_path: Path) -> None:
    target = command_target([PYTHON, "-c", "pass"], tmp_path)

    with pytest.raises(DeployError, match="traffic_command"):
        target.split("web-7", "web-8", 10)


@pytest.mark.parametrize("percent", [-1, 101])
def test_split_refuses_a_percent_outside_0_to_100(tmp_path: Path, percent: int) -> None:
    traffic, out = split_script(tmp_path)
    target = command_target([PYTHON, "-c", "pass"], tmp_path, traffic_command=traffic)

    with pytest.raises(DeployError, match="between 0 and 100"):
        target.split("web-7", "web-8", percent)
    assert not out.exists()
