"""The real JUnit reports in ../shared/data/junit and what each holds, counted from its elements."""

from __future__ import annotations

from pathlib import Path

# The nearest ancestor's shared/data/junit: beside the main checkout, or above a worktree of it.
JUNIT = next(
    (
        folder / "shared" / "data" / "junit"
        for folder in Path(__file__).resolve().parents
        if (folder / "shared" / "data" / "junit").is_dir()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "data" / "junit",
)

# (total, passed, failed, error, skipped, flaky), counted from the XML itself (testcase children
# failure/error/skipped/flaky*, reruns folded), never from the declared tests=/failures=.
EXPECTED = {
    "gotestsum.xml": (60, 42, 13, 0, 5, 0),
    "jest-monorepo.xml": (4239, 4207, 2, 0, 30, 0),
    "jest-suite-failed-to-run.xml": (2, 0, 0, 2, 0, 0),
    "mocha.xml": (109, 109, 0, 0, 0, 0),
    "phpunit-nested.xml": (30, 28, 2, 0, 0, 0),
    "pytest-fail.xml": (5, 3, 1, 0, 1, 0),
    "pytest-xunit2.xml": (10, 6, 2, 0, 2, 0),
    "surefire-flaky.xml": (1, 1, 0, 0, 0, 1),
    "surefire-testng-pulsar.xml": (808, 793, 1, 0, 14, 0),
}
