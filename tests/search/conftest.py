"""A small world to search: one of each kind, with names that hold LIKE's special characters."""

from __future__ import annotations

import pytest

from runs.models import FailureSignature, TestResult
from tests.factories import CaseFactory, RevisionFactory, RunFactory, ServiceFactory, SuiteFactory


@pytest.fixture
def world(db) -> dict:
    service = ServiceFactory(name="checkout-api", display_name="Checkout API")
    suite = SuiteFactory(service=service, name="e2e-smoke")
    login = CaseFactory(
        suite=suite,
        key="tests/auth/test_login.py::TestLoginFlow::test_redirects_home",
        name="test_redirects_home",
        classname="tests.auth.TestLoginFlow",
        file="tests/auth/test_login.py",
    )
    percent = CaseFactory(
        suite=suite,
        key="tests/pricing/test_discount.py::test_100%_off",
        name="test_100%_off",
        file="tests/pricing/test_discount.py",
    )
    lookalike = CaseFactory(suite=suite, key="t::test_100x_off", name="test_100x_off")
    revision = RevisionFactory(
        service=service, name="checkout-api-00042-abc", commit_sha="deadbeefcafe0042"
    )
    signature = FailureSignature.objects.create(
        suite=suite,
        kind="failed",
        hash="a" * 40,
        normalized="AssertionError: expected <N> got <N> for O'Brien in C:\\shop\\cart",
        example="AssertionError: expected 200 got 500 for O'Brien in C:\\shop\\cart",
    )
    old_run = RunFactory(suite=suite, revision=revision, status="failed")
    new_run = RunFactory(suite=suite, revision=revision, status="failed")
    for run in (old_run, new_run):
        TestResult.objects.create(
            run=run, case=login, outcome="failed", message=signature.example, signature=signature
        )
    return {
        "service": service,
        "suite": suite,
        "login": login,
        "percent": percent,
        "lookalike": lookalike,
        "revision": revision,
        "signature": signature,
        "new_run": new_run,
    }
