"""The pytest plugin: test states from Stageloop, Early Flake Detection and retries.

Loaded through the package (its `pytest11` entry point, or `-p stageloop`) and inert unless
configured: it acts when `--stageloop` is given or STAGELOOP_URL, STAGELOOP_SERVICE and
STAGELOOP_SUITE are all set (`stageloop run` sets them); `--stageloop-retries N` works alone.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import mangle_test_address
from _pytest.runner import runtestprotocol

from stageloop.api import Api, ClientError, Settings, settings_from
from stageloop.stream import Streamer

QUARANTINED = "quarantined"
DISABLED = "disabled"
NEW = "new"


def addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stageloop", "Stageloop test states, flake detection and retries")
    group.addoption(
        "--stageloop",
        action="store_true",
        help="fetch test states from Stageloop (also on when STAGELOOP_URL, STAGELOOP_SERVICE "
        "and STAGELOOP_SUITE are set)",
    )
    group.addoption("--stageloop-url", help="the server (default: $STAGELOOP_URL)")
    group.addoption("--stageloop-token", help="an API token (default: $STAGELOOP_TOKEN)")
    group.addoption("--stageloop-service", help="the service (default: $STAGELOOP_SERVICE)")
    group.addoption("--stageloop-suite", help="the suite (default: $STAGELOOP_SUITE)")
    group.addoption(
        "--stageloop-efd-runs",
        type=int,
        default=5,
        help="Early Flake Detection: run each test Stageloop has never seen this many times "
        "(default 5; 1 turns it off)",
    )
    group.addoption(
        "--stageloop-efd-max-tests",
        type=int,
        default=50,
        help="rerun at most this many new tests per session (default 50)",
    )
    group.addoption(
        "--stageloop-efd-max-share",
        type=float,
        default=0.2,
        help="on a suite's first run (every test new), reruns add at most this share of the "
        "suite's own time (default 0.2)",
    )
    group.addoption(
        "--stageloop-retries",
        type=int,
        default=0,
        help="retry a failed test up to N times; every attempt is in the JUnit report",
    )


def configure(config: pytest.Config) -> None:
    env = os.environ
    active = config.getoption("stageloop") or all(
        env.get(name) for name in ("STAGELOOP_URL", "STAGELOOP_SERVICE", "STAGELOOP_SUITE")
    )
    retries = config.getoption("stageloop_retries")
    if active or retries > 0:
        config.pluginmanager.register(StageloopSession(config, fetch=active), "stageloop-session")


@dataclass
class _State:
    state: str
    reason: str = ""


@dataclass
class _Attempt:
    outcome: str  # passed, failed, error, skipped
    message: str = ""
    details: str = ""
    duration: float = 0.0


@dataclass
class _History:
    classname: str
    name: str
    attempts: list[_Attempt] = field(default_factory=list)
    chosen: int = 0
    efd: bool = False


def junit_name(item: pytest.Item, prefix: str | None) -> tuple[str, str, str]:
    """(classname, name, file) exactly as pytest's junitxml plugin writes them."""
    names = mangle_test_address(item.nodeid)
    classnames = names[:-1]
    if prefix:
        classnames.insert(0, prefix)
    return ".".join(classnames), names[-1], item.location[0]


class StageloopSession:
    def __init__(self, config: pytest.Config, *, fetch: bool) -> None:
        self.config = config
        self.fetch = fetch
        self.prefix = config.getoption("junitprefix", None)
        self.retries = max(0, config.getoption("stageloop_retries"))
        self.efd_runs = max(1, config.getoption("stageloop_efd_runs"))
        self.efd_max_tests = max(0, config.getoption("stageloop_efd_max_tests"))
        self.efd_share = max(0.0, config.getoption("stageloop_efd_max_share"))
        self.states: dict[str, _State] = {}
        self.efd: set[str] = set()
        self.all_new = False
        self.base_seconds = 0.0
        self.extra_seconds = 0.0
        self.efd_cut = 0
        self.histories: dict[str, _History] = {}
        self.quarantined_failures: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.lookup_seconds = 0.0
        self.names: dict[str, tuple[str, str, str]] = {}
        self.streamer: Streamer | None = None
        self.run_id = os.environ.get("STAGELOOP_RUN_ID", "")
        self.live: dict[str, dict[str, Any]] = {}
        self.attempt_no: dict[str, int] = {}

    # -- states ---------------------------------------------------------------------------

    def _settings(self) -> tuple[Settings, str, str] | None:
        opt = self.config.getoption
        service = opt("stageloop_service") or os.environ.get("STAGELOOP_SERVICE", "")
        suite = opt("stageloop_suite") or os.environ.get("STAGELOOP_SUITE", "")
        try:
            base = settings_from(url=opt("stageloop_url"), token=opt("stageloop_token"))
        except ClientError as exc:
            self.notes.append(f"{exc} Running without test states.")
            return None
        if not service or not suite:
            self.notes.append(
                "give --stageloop-service and --stageloop-suite (or STAGELOOP_SERVICE and "
                "STAGELOOP_SUITE); running without test states."
            )
            return None
        # A suite should not wait long for states it can run without.
        settings = Settings(base.url, base.token, retries=min(base.retries, 1), timeout=10)
        return settings, service, suite

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if not self.fetch or not items:
            return
        found = self._settings()
        if found is None:
            return
        settings, service, suite = found
        if self.run_id.isdigit():
            self.streamer = Streamer(settings, int(self.run_id), expected=len(items))
        tests = []
        for item in items:
            classname, name, file = self.names[item.nodeid] = junit_name(item, self.prefix)
            tests.append({"classname": classname, "name": name, "file": file})
        path = f"/services/{_seg(service)}/suites/{_seg(suite)}/tests/lookup"
        started = time.perf_counter()
        try:
            with Api(settings) as api:
                answer = api.post(path, {"tests": tests})
        except ClientError as exc:
            self.notes.append(
                f"{exc} Running without test states: no test is skipped, quarantined or rerun "
                "as new."
            )
            return
        finally:
            self.lookup_seconds = time.perf_counter() - started
        states = answer.get("tests") or []
        if len(states) != len(items):
            self.notes.append("the server's lookup answer does not match the tests; ignoring it.")
            return
        new = 0
        for item, state in zip(items, states, strict=True):
            known = _State(state=state.get("state", "active"), reason=state.get("reason") or "")
            self.states[item.nodeid] = known
            if known.state == DISABLED:
                reason = known.reason or "no reason given"
                item.add_marker(pytest.mark.skip(reason=f"disabled in Stageloop: {reason}"))
            elif known.state == NEW:
                new += 1
                if self.efd_runs > 1 and len(self.efd) < self.efd_max_tests:
                    self.efd.add(item.nodeid)
        self.all_new = new == len(items)
        if new > len(self.efd) and self.efd_runs > 1:
            self.notes.append(
                f"{new} new tests; Early Flake Detection reruns at most "
                f"{self.efd_max_tests} (--stageloop-efd-max-tests)."
            )

    # -- attempts -------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        efd = rerun_new = item.nodeid in self.efd
        if not efd and not self.retries:
            return None
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        runs: list[list[pytest.TestReport]] = []
        attempts: list[_Attempt] = []
        limit = max(self.efd_runs if efd else 1, 1 + self.retries)
        while True:
            started = time.perf_counter()
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
            spent = time.perf_counter() - started
            attempt = _attempt_of(reports, spent)
            if runs:
                self.extra_seconds += spent
            else:
                self.base_seconds += spent
            runs.append(reports)
            attempts.append(attempt)
            if attempt.outcome == "skipped" or len(runs) >= limit:
                break
            if rerun_new and len(runs) < self.efd_runs:
                # A new test runs every time, failing or not: that is how a flake shows.
                if not self._efd_over_budget(spent):
                    continue
                self.efd_cut += 1
                rerun_new = False
            if attempt.outcome == "passed" or len(runs) > self.retries:
                break
        passing = [i for i, a in enumerate(attempts) if a.outcome in ("passed", "skipped")]
        chosen = passing[-1] if passing else len(runs) - 1
        if self.streamer is not None:
            # The server keeps the last attempt's outcome: the one reported goes last.
            others = [a for i, a in enumerate(attempts) if i != chosen]
            for number, attempt in enumerate(others, start=1):
                self._stream(item.nodeid, item.location[0], attempt, number)
            self.attempt_no[item.nodeid] = len(attempts)
        for report in runs[chosen]:
            ihook.pytest_runtest_logreport(report=report)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        if len(runs) > 1:
            classname, name, _file = junit_name(item, self.prefix)
            # Reruns cut short by the time budget were retries, not flake detection.
            self.histories[item.nodeid] = _History(classname, name, attempts, chosen, rerun_new)
        return True

    def _efd_over_budget(self, next_cost: float) -> bool:
        if not self.all_new:
            return False
        return self.extra_seconds + next_cost > self.efd_share * self.base_seconds

    # -- quarantine -----------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        state = self.states.get(item.nodeid)
        if state is not None and state.state == QUARANTINED:
            reason = state.reason or "no reason given"
            report.user_properties.append(("stageloop", f"quarantined: {reason}"))
            if report.failed:
                report.stageloop_quarantined = reason  # type: ignore[attr-defined]
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        if report.failed and hasattr(report, "stageloop_quarantined"):
            return "quarantined", "Q", ("QUARANTINED", {"yellow": True})
        return None

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Stream the test once its teardown is reported; take a quarantined failure back out
        of the session's count: it does not fail it."""
        if self.streamer is not None:
            self._collect(report)
        if not (report.failed and hasattr(report, "stageloop_quarantined")):
            return
        session = self.config.stash.get(_SESSION, None)
        if session is not None and not hasattr(report, "wasxfail"):
            session.testsfailed -= 1
            maxfail = self.config.getvalue("maxfail")
            if session.shouldfail and maxfail and session.testsfailed < maxfail:
                session.shouldfail = False
        self.quarantined_failures.append((report.nodeid, report.stageloop_quarantined))

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.config.stash[_SESSION] = session

    # -- live results ---------------------------------------------------------------------

    def _collect(self, report: pytest.TestReport) -> None:
        seen = self.live.setdefault(report.nodeid, {"outcome": "passed", "duration": 0.0})
        seen["duration"] += report.duration
        if report.skipped and seen["outcome"] == "passed":
            seen["outcome"] = "skipped"
        elif report.failed and seen["outcome"] in ("passed", "skipped"):
            seen["outcome"] = "failed" if report.when == "call" else "error"
            attempt = _attempt_of([report], 0.0)
            seen["message"], seen["details"] = attempt.message, attempt.details
        if report.when != "teardown":
            return
        del self.live[report.nodeid]
        final = _Attempt(
            seen["outcome"], seen.get("message", ""), seen.get("details", ""), seen["duration"]
        )
        number = self.attempt_no.pop(report.nodeid, 1)
        self._stream(report.nodeid, report.location[0], final, number)

    def _stream(self, nodeid: str, file: str, attempt: _Attempt, number: int) -> None:
        assert self.streamer is not None
        names = self.names.get(nodeid)
        if names is None:
            parts = mangle_test_address(nodeid)
            if self.prefix:
                parts.insert(0, self.prefix)
            names = (".".join(parts[:-1]), parts[-1], file)
        self.streamer.add(
            {
                "classname": names[0],
                "name": names[1],
                "file": names[2],
                "outcome": attempt.outcome,
                "duration": round(attempt.duration, 6),
                "message": attempt.message,
                "details": attempt.details,
                "attempt": number,
            }
        )

    # -- the report -----------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self) -> Generator[None, None, None]:
        if self.streamer is not None:
            self.streamer.close()
            if self.streamer.problem:
                self.notes.append(f"live results stopped: {self.streamer.problem}")
        result = yield
        xmlpath = self.config.getoption("xmlpath", None)
        if xmlpath and self.histories:
            add_attempts(Path(xmlpath), self.histories.values())
        return result

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = [f"stageloop: {note}" for note in self.notes]
        for nodeid, reason in self.quarantined_failures:
            lines.append(f"stageloop: {nodeid} failed, quarantined (not counted): {reason}")
        for nodeid, history in self.histories.items():
            failed = sum(a.outcome in ("failed", "error") for a in history.attempts)
            total = len(history.attempts)
            why = "new test, Early Flake Detection" if history.efd else "retried"
            if failed and failed < total:
                lines.append(f"stageloop: {nodeid} is flaky: failed {failed} of {total} ({why})")
            elif failed == total:
                lines.append(f"stageloop: {nodeid} failed all {total} attempts ({why})")
        if self.efd_cut:
            lines.append(
                f"stageloop: Early Flake Detection stopped early for {self.efd_cut} tests: every "
                f"test is new, and reruns may add at most {self.efd_share:.0%} of the suite's time."
            )
        if lines:
            terminalreporter.section("stageloop", sep="-")
            for line in lines:
                terminalreporter.write_line(line)


_SESSION = pytest.StashKey[pytest.Session]()


def _seg(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _attempt_of(reports: list[pytest.TestReport], duration: float) -> _Attempt:
    for report in reports:
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            text = report.longreprtext
            crash = getattr(report.longrepr, "reprcrash", None)
            message = getattr(crash, "message", "") or (text.strip().splitlines() or [outcome])[-1]
            return _Attempt(outcome, message[:500], text, duration)
    if any(r.skipped for r in reports):
        return _Attempt("skipped", duration=duration)
    return _Attempt("passed", duration=duration)


def add_attempts(xmlpath: Path, histories: Any) -> None:
    """Write every attempt but the reported one into the JUnit report, as Surefire does.

    A test that passed in the end gets <flakyFailure>/<flakyError> for its failed attempts; a
    test that failed every attempt gets <rerunFailure>/<rerunError> for the earlier ones.
    Stageloop's importer reads both (attempts, flaky).
    """
    by_name = {(h.classname, h.name): h for h in histories}
    tree = ET.parse(xmlpath)  # noqa: S314  # pytest wrote it a moment ago
    for case in tree.iter("testcase"):
        history = by_name.get((case.get("classname", ""), case.get("name", "")))
        if history is None:
            continue
        final = history.attempts[history.chosen]
        prefix = "flaky" if final.outcome == "passed" else "rerun"
        for i, attempt in enumerate(history.attempts):
            if i == history.chosen or attempt.outcome not in ("failed", "error"):
                continue
            kind = "Failure" if attempt.outcome == "failed" else "Error"
            element = ET.SubElement(
                case, f"{prefix}{kind}", message=attempt.message, time=f"{attempt.duration:.3f}"
            )
            ET.SubElement(element, "stackTrace").text = attempt.details
        properties = case.find("properties")
        if properties is None:
            properties = ET.SubElement(case, "properties")
        ET.SubElement(
            properties,
            "property",
            name="stageloop.attempts",
            value=str(len(history.attempts)),
        )
    tree.write(xmlpath, encoding="utf-8", xml_declaration=True)
