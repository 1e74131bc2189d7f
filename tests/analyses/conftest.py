"""Helpers to build runs of a suite on revisions, with failures grouped by signature."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import FailureSignature, TestResult
from tests.factories import CaseFactory, RevisionFactory, RunFactory, SuiteFactory


def signature_for(suite, message: str) -> FailureSignature:
    digest = hashlib.sha1(message.encode(), usedforsecurity=False).hexdigest()
    signature, _ = FailureSignature.objects.get_or_create(
        suite=suite,
        hash=digest,
        defaults={"kind": "failed", "normalized": message, "example": message + " (id 42)"},
    )
    return signature


class History:
    """A suite with tests, and a way to add runs on ever later revisions."""

    def __init__(self, n_tests: int = 3):
        self.suite = SuiteFactory()
        self.service = self.suite.service
        self.cases = [
            CaseFactory(suite=self.suite, key=f"tests/chat.py::test_{i}", name=f"test_{i}")
            for i in range(n_tests)
        ]
        self._clock = timezone.now() - timedelta(days=30)

    def revision(self):
        self._clock += timedelta(hours=1)
        revision = RevisionFactory(service=self.service)
        type(revision).objects.filter(pk=revision.pk).update(created_at=self._clock)
        revision.refresh_from_db()
        return revision

    def run(self, outcomes: dict[int, str], revision=None, message: str = "boom", messages=None):
        """A finished run; ``outcomes`` maps test index to outcome (others pass); failures get
        ``message`` (or ``messages[index]``) and the signature of that message."""
        messages = messages or {}
        revision = revision or self.revision()
        self._clock += timedelta(minutes=5)
        failing = any(o in ("failed", "error") for o in outcomes.values())
        every = [outcomes.get(i, "passed") for i in range(len(self.cases))]
        run = RunFactory(
            suite=self.suite,
            revision=revision,
            status="failed" if failing else "passed",
            total=len(every),  # the counts the importer keeps
            passed=every.count("passed"),
            failed=every.count("failed"),
            errors=every.count("error"),
            skipped=every.count("skipped"),
        )
        type(run).objects.filter(pk=run.pk).update(created_at=self._clock)
        run.refresh_from_db()
        for i, case in enumerate(self.cases):
            outcome = outcomes.get(i, "passed")
            text = messages.get(i, message)
            signature = signature_for(self.suite, text) if outcome in ("failed", "error") else None
            TestResult.objects.create(
                run=run,
                case=case,
                outcome=outcome,
                message=f"{text} (id 42)" if signature else "",
                signature=signature,
            )
        return run


@pytest.fixture
def history(db) -> History:
    return History()
