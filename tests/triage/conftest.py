"""A suite whose runs fail the same way: one failure signature to triage, and an analysis."""

from __future__ import annotations

import pytest

from analyses.models import Analysis
from runs.models import FailureSignature, TestRun
from runs.services.ingest import ReportFile, run_import
from tests.factories import ServiceFactory, SuiteFactory

REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="checkout" tests="2" failures="1" errors="0" time="{time}">
  <testcase classname="tests.test_checkout" name="test_pays" time="0.5">
    <failure message="payment gateway answered 502 after {time} seconds">Traceback: 502</failure>
  </testcase>
  <testcase classname="tests.test_checkout" name="test_lists_items" time="0.2"/>
</testsuite>
"""


def failing_run(suite, time: str = "1.5") -> TestRun:
    """A new run of the suite whose test_pays fails with the gateway's 502 (one signature: the
    time in the message is masked)."""
    report = ReportFile(name=f"report-{time}.xml", data=REPORT.format(time=time).encode())
    return run_import(suite=suite, files=[report], analyze=False).run


@pytest.fixture
def suite(db):
    return SuiteFactory(service=ServiceFactory(name="shop"), name="e2e")


@pytest.fixture
def run(suite) -> TestRun:
    return failing_run(suite)


@pytest.fixture
def signature(run) -> FailureSignature:
    return FailureSignature.objects.get(suite=run.suite)


@pytest.fixture
def analysis(suite, signature) -> Analysis:
    return Analysis.objects.create(
        service=suite.service, title="The payment gateway drops requests", problem="502s"
    )


@pytest.fixture
def foreign_analysis(db) -> Analysis:
    return Analysis.objects.create(
        service=ServiceFactory(name="billing"), title="Invoices are late", problem="slow"
    )
