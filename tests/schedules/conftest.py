"""A service with a ready current revision and a suite Stageloop can run: a small program that
writes a one-test JUnit report, passing or failing as the test says, held as long as it says,
and notes when each run began and ended (to show runs never overlap)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runs.models import Revision, Service, Suite

SUITE = """
import os, pathlib, time
here = pathlib.Path(__file__).parent
began = time.time()
while (here / "hold").exists() and time.time() - began < 60:
    time.sleep(0.05)
failing = (here / "fail").exists()
failure = '<failure message="boom">AssertionError: boom</failure>' if failing else ""
pathlib.Path(os.environ["STAGELOOP_JUNIT_PATH"]).write_text(
    f'<testsuite name="api" tests="1" failures="{int(failing)}">'
    f'<testcase classname="tests.test_api" name="test_health" time="0.01">{failure}</testcase>'
    "</testsuite>"
)
with open(here / "spans", "a") as spans:
    spans.write(f"{began} {time.time()} {os.environ['STAGELOOP_REVISION']}\\n")
"""


class Monitor:
    """The suite's folder: make its next runs fail or hold them, read when its runs ran."""

    def __init__(self, folder: Path, suite: Suite) -> None:
        self.folder, self.suite = folder, suite

    def failing(self, yes: bool = True) -> None:
        (self.folder / "fail").unlink(missing_ok=True)
        if yes:
            (self.folder / "fail").write_text("1")

    def hold(self) -> None:
        """Runs that start now go on (up to a minute) until ``release``."""
        (self.folder / "hold").write_text("1")

    def release(self) -> None:
        (self.folder / "hold").unlink(missing_ok=True)

    def spans(self) -> list[tuple[float, float, str]]:
        path = self.folder / "spans"
        if not path.exists():
            return []
        rows = [line.split() for line in path.read_text().splitlines()]
        return [(float(a), float(b), revision) for a, b, revision in rows]


def monitored_suite(folder: Path, *, name: str = "checkout") -> Monitor:
    service = Service.objects.create(name=name)
    revision = Revision.objects.create(
        service=service,
        name=f"{name}-00001",
        url="http://127.0.0.1:9",
        status=Revision.Status.READY,
        traffic_percent=100,
    )
    service.current_revision = revision
    service.save(update_fields=["current_revision"])
    (folder / "suite.py").write_text(SUITE)
    suite = Suite.objects.create(
        service=service,
        name="e2e",
        command=[sys.executable, str(folder / "suite.py")],
        working_dir=str(folder),
        timeout_seconds=120,
    )
    return Monitor(folder, suite)


@pytest.fixture
def monitor(db, tmp_path: Path) -> Monitor:
    return monitored_suite(tmp_path)
