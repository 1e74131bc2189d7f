"""The suite runner, driving real processes: pytest suites written to tmp_path and small scripts."""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.runner import RunnerResult, SuiteStartError, is_pytest_command, suite_execute

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


@dataclass
class Recorder:
    """What the runner reported through its callbacks, with arrival times."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def test_outcomes(self) -> dict[str, str]:
        return {
            e["nodeid"].split("::")[-1]: e["outcome"] for e in self.events if e["event"] == "test"
        }


def write_suite(directory: Path, files: dict[str, str]) -> Path:
    """Write a pytest suite (with its own pytest.ini, so it is its own rootdir) into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pytest.ini").write_text("[pytest]\n")
    for name, source in files.items():
        (directory / name).write_text(textwrap.dedent(source))
    return directory


def run(
    tmp_path: Path,
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    run_timeout: float = 60,
    test_timeout: float | None = None,
    cancel_when: Any = None,
) -> tuple[RunnerResult, Recorder]:
    recorder = Recorder()
    result = suite_execute(
        command=command,
        cwd=cwd or tmp_path,
        env=env or {},
        junit_path=tmp_path / "out" / "junit.xml",
        events_path=tmp_path / "out" / "events.jsonl",
        run_timeout=run_timeout,
        test_timeout=test_timeout,
        on_output=lambda line: recorder.lines.append((time.monotonic(), line)),
        on_event=recorder.events.append,
        should_cancel=(lambda: cancel_when(recorder)) if cancel_when else (lambda: False),
        poll_interval=0.05,
    )
    return result, recorder


def assert_group_gone(pgid: int, *pids: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def junit_cases(path: Path) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in ET.parse(path).getroot().iter("testcase")}


def test_it_runs_a_passing_suite_and_reports_progress_in_order(tmp_path):
    suite = write_suite(
        tmp_path / "suite",
        {
            "test_ok.py": """
                import pytest

                def test_one():
                    assert 1 + 1 == 2

                def test_two():
                    print("hello from test_two")

                @pytest.mark.skip(reason="not today")
                def test_three():
                    pass
            """
        },
    )

    result, seen = run(tmp_path, [*PYTEST, "-s"], cwd=suite)

    assert result.exit_code == 0
    assert not result.timed_out and not result.cancelled
    assert result.junit_path == tmp_path / "out" / "junit.xml"
    assert set(junit_cases(result.junit_path)) == {"test_one", "test_two", "test_three"}
    assert seen.events[0] == {"event": "collected", "total": 3}
    assert [e["event"] for e in seen.events] == ["collected", "test", "test", "test", "finished"]
    assert seen.test_outcomes() == {
        "test_one": "passed",
        "test_two": "passed",
        "test_three": "skipped",
    }
    assert all(e["duration"] >= 0 for e in seen.events if e["event"] == "test")
    assert "hello from test_two" in seen.output
    assert "2 passed, 1 skipped" in result.output_tail


def test_it_refuses_a_command_given_as_a_string(tmp_path):
    with pytest.raises(ValueError, match="list of arguments"):
        run(tmp_path, "pytest -q")  # type: ignore[arg-type]


def test_a_command_that_cannot_start_raises_a_clear_error(tmp_path):
    with pytest.raises(SuiteStartError, match="no-such-program"):
        run(tmp_path, ["no-such-program-stageloop"])


def test_run_timeout_kills_the_whole_group_including_grandchildren(tmp_path):
    script = (
        "import os, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "print(f'pgid={os.getpgrp()} grandchild={child.pid}', flush=True)\n"
        "time.sleep(300)\n"
    )

    result, seen = run(tmp_path, [sys.executable, "-c", script], run_timeout=1.0)

    assert result.timed_out and not result.cancelled
    assert result.exit_code is None
    assert result.duration < 1.0 + 2 + 5
    pgid, grandchild = map(int, re.search(r"pgid=(\d+) grandchild=(\d+)", seen.output).groups())
    assert_group_gone(pgid, grandchild)
    assert "run timeout" in result.output_tail


def test_run_timeout_keeps_the_report_of_the_tests_that_finished(tmp_path):
    suite = write_suite(
        tmp_path / "suite",
        {
            "test_slow.py": """
                import time

                def test_quick():
                    pass

                def test_endless():
                    time.sleep(300)
            """
        },
    )

    result, seen = run(tmp_path, PYTEST, cwd=suite, run_timeout=3.0)

    assert result.timed_out
    assert result.junit_path is not None, result.output_tail
    cases = junit_cases(result.junit_path)
    assert "test_quick" in cases and cases["test_quick"].find("failure") is None
    assert seen.test_outcomes()["test_quick"] == "passed"


def test_a_hanging_test_fails_on_the_per_test_timeout_and_the_others_still_run(tmp_path):
    suite = write_suite(
        tmp_path / "suite",
        {
            "test_hang.py": """
                import time

                def test_before():
                    pass

                def test_hangs():
                    try:
                        time.sleep(300)
                    except Exception:
                        pass  # the timeout must not be swallowed by a broad except

                def test_after():
                    pass
            """
        },
    )

    result, seen = run(tmp_path, PYTEST, cwd=suite, test_timeout=1)

    assert result.exit_code == 1
    assert not result.timed_out
    assert result.duration < 15
    root = ET.parse(result.junit_path).getroot()
    suite_node = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite_node.get("tests") == "3" and suite_node.get("failures") == "1"
    failure = junit_cases(result.junit_path)["test_hangs"].find("failure")
    assert "Timeout: test exceeded 1 s" in failure.get("message")
    assert seen.test_outcomes() == {
        "test_before": "passed",
        "test_hangs": "failed",
        "test_after": "passed",
    }
    hang_event = next(e for e in seen.events if e.get("nodeid", "").endswith("test_hangs"))
    assert "Timeout: test exceeded 1 s" in hang_event["message"]


def test_cancel_kills_the_suite_and_the_processes_it_started(tmp_path):
    suite = write_suite(
        tmp_path / "suite",
        {
            "test_cancel.py": """
                import os, pathlib, subprocess, time

                MARKERS = pathlib.Path(os.environ["MARKER_DIR"])

                def test_starts_a_helper():
                    helper = subprocess.Popen(["sleep", "300"])
                    (MARKERS / "pids").write_text(f"{os.getpgrp()} {helper.pid}")

                def test_waits_forever():
                    time.sleep(300)
            """
        },
    )

    def first_test_done(seen: Recorder) -> bool:
        return any(e["event"] == "test" for e in seen.events)

    result, _ = run(
        tmp_path,
        PYTEST,
        cwd=suite,
        env={"MARKER_DIR": str(tmp_path)},
        cancel_when=first_test_done,
    )

    assert result.cancelled and not result.timed_out
    assert result.exit_code is None
    assert result.duration < 20
    pgid, helper = map(int, (tmp_path / "pids").read_text().split())
    assert_group_gone(pgid, helper)
    assert "cancelled" in result.output_tail


def test_processes_left_behind_by_a_finished_suite_are_killed(tmp_path):
    script = (
        "import os, subprocess\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        "print(f'pgid={os.getpgrp()} grandchild={child.pid}', flush=True)\n"
    )

    result, seen = run(tmp_path, [sys.executable, "-c", script])

    assert result.exit_code == 0
    pgid, grandchild = map(int, re.search(r"pgid=(\d+) grandchild=(\d+)", seen.output).groups())
    assert_group_gone(pgid, grandchild)


def test_a_crash_without_a_report_gives_no_junit_and_keeps_the_output_tail(tmp_path):
    script = (
        "import sys\nfor i in range(80): print(f'line {i}')\nprint('boom: crashed')\nsys.exit(3)"
    )

    result, _ = run(tmp_path, [sys.executable, "-c", script])

    assert result.exit_code == 3
    assert result.junit_path is None
    assert result.output_tail.splitlines()[-1] == "boom: crashed"
    assert len(result.output_tail.splitlines()) == 50


def test_a_stale_report_from_an_earlier_run_is_not_reused(tmp_path):
    stale = tmp_path / "out" / "junit.xml"
    stale.parent.mkdir()
    stale.write_text("<testsuite tests='1'/>")

    result, _ = run(tmp_path, [sys.executable, "-c", "raise SystemExit(1)"])

    assert result.junit_path is None


def test_a_non_pytest_command_gets_the_report_path_in_its_environment(tmp_path):
    script = (
        "import os, pathlib\n"
        "pathlib.Path(os.environ['STAGELOOP_JUNIT_PATH']).write_text("
        '\'<testsuite name="x" tests="1"><testcase name="t"/></testsuite>\')\n'
    )

    result, _ = run(tmp_path, [sys.executable, "-c", script])

    assert result.exit_code == 0
    assert result.junit_path == tmp_path / "out" / "junit.xml"
    assert "testcase" in result.junit_path.read_text()


def test_the_suite_sees_the_callers_env_but_not_the_dashboards_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/stageloop")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    script = (
        "import os\n"
        "for key in ('STAGELOOP_BASE_URL', 'DATABASE_URL', 'STAGELOOP_TEST_TIMEOUT', "
        "'STAGELOOP_EVENTS'):\n"
        "    print(f'{key}={os.environ.get(key)}')\n"
        "print('PYTHONPATH=' + os.environ['PYTHONPATH'])\n"
        "import engine.pytest_progress\n"  # the plugin is importable from any working directory
    )

    result, seen = run(
        tmp_path,
        [sys.executable, "-c", script],
        env={"STAGELOOP_BASE_URL": "http://127.0.0.1:9999"},
        test_timeout=7.5,
    )

    assert result.exit_code == 0, result.output_tail
    assert "STAGELOOP_BASE_URL=http://127.0.0.1:9999" in seen.output
    assert "DATABASE_URL=None" in seen.output
    assert "STAGELOOP_TEST_TIMEOUT=7.5" in seen.output
    assert f"STAGELOOP_EVENTS={tmp_path / 'out' / 'events.jsonl'}" in seen.output
    repo_root = str(Path(__file__).resolve().parents[2])
    assert f"PYTHONPATH={repo_root}" in seen.output
    assert "/somewhere/else" not in seen.output


def test_the_suite_gets_exactly_the_allowlist_it_always_got(tmp_path, monkeypatch):
    """The allowlist the deploy targets now share is the runner's own, unchanged."""
    allowlist = {
        *("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ"),
        *("TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV", "SYSTEMROOT"),
        *("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"),
        *("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"),
    }
    for key in allowlist - {"PATH", "HOME", "TMPDIR", "TEMP", "TMP"}:
        monkeypatch.setenv(key, f"value-of-{key}")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    for key in (
        "SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        monkeypatch.setenv(key, "secret")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setenv("STAGELOOP_TEST_TIMEOUT", "99")
    out = tmp_path / "env.json"
    script = f"import json, os; open({str(out)!r}, 'w').write(json.dumps(dict(os.environ)))"

    result, _ = run(tmp_path, [sys.executable, "-c", script], env={"BASE_URL": "http://x"})

    assert result.exit_code == 0, result.output_tail
    seen = json.loads(out.read_text())
    ours = {key: value for key, value in os.environ.items() if key in allowlist}
    runner = {"STAGELOOP_EVENTS", "STAGELOOP_JUNIT_PATH", "PYTHONPATH", "PYTHONUNBUFFERED"}
    assert {k: v for k, v in seen.items() if k in allowlist} == ours
    assert seen["LC_ALL"] == "C.UTF-8" and seen["BASE_URL"] == "http://x"
    assert set(seen) - set(ours) - {"BASE_URL"} - runner == {"LC_ALL"}
    assert seen["PYTHONPATH"] == str(Path(__file__).resolve().parents[2])
    assert seen["PYTHONUNBUFFERED"] == "1"


def test_output_lines_arrive_while_the_suite_is_still_running(tmp_path):
    script = "import time\nprint('started', flush=True)\ntime.sleep(1.5)\nprint('done')"

    result, seen = run(tmp_path, [sys.executable, "-c", script])

    arrivals = dict((line, at) for at, line in seen.lines)
    assert arrivals["done"] - arrivals["started"] > 1.0
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["pytest", "-q"], True),
        ([".venv/bin/pytest", "tests"], True),
        (["python", "-m", "pytest"], True),
        (["uv", "run", "pytest"], True),
        (["py.test"], True),
        (["npm", "test"], False),
        (["python", "run_tests.py", "--pytest-like"], False),
        (["python", "-m", "unittest"], False),
    ],
)
def test_is_pytest_command_recognises_pytest_invocations(command, expected):
    assert is_pytest_command(command) is expected
