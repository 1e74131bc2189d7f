from __future__ import annotations

import pytest

from runs.models import FailureSignature, TestCase, TestResult, TestRun, TestRunArtifact
from tests.factories import ServiceFactory, SuiteFactory
from tests.junit_reports import EXPECTED, JUNIT  # noqa: F401  (re-exported for the tests)


def counts(run: TestRun) -> tuple[int, ...]:
    return (run.total, run.passed, run.failed, run.errors, run.skipped, run.flaky)


def stored_counts(run: TestRun) -> tuple[int, ...]:
    """The counts as the stored results say, not as the run row says."""
    results = TestResult.objects.filter(run=run)
    return (
        results.count(),
        results.filter(outcome="passed").count(),
        results.filter(outcome="failed").count(),
        results.filter(outcome="error").count(),
        results.filter(outcome="skipped").count(),
        results.filter(flaky=True).count(),
    )


def table_sizes() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (TestRun, TestResult, TestCase, FailureSignature, TestRunArtifact)
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def suite(db):
    return SuiteFactory(service=ServiceFactory(name="web"), name="e2e")


HOSTILE = {
    "billion-laughs.xml": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        b'<testsuite name="x"><testcase name="&lol2;"/></testsuite>',
        "DTDs and entities are not allowed",
    ),
    "external-entity.xml": (
        b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<testsuite name="x"><testcase name="a"><failure>&xxe;</failure></testcase></testsuite>',
        "DTDs and entities are not allowed",
    ),
    "dtd.xml": (
        b'<?xml version="1.0"?>\n<!DOCTYPE testsuite SYSTEM "http://example.com/junit.dtd">\n'
        b'<testsuite name="x"><testcase name="a"/></testsuite>',
        "DTDs and entities are not allowed",
    ),
    "truncated.xml": (
        b'<?xml version="1.0"?>\n<testsuite name="x">\n<testcase name="a">\n<failure message="m',
        "line",
    ),
    "empty.xml": (b"", "empty"),
    # A binary file named like a report (an image next to a report is an attachment).
    "binary.xml": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not"),
    "not-junit.xml": ((JUNIT / "not-junit.xml").read_bytes(), "root element is <suites>"),
}
