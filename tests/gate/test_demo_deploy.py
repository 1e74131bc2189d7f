"""End to end on the local target with the demo service: the faulty build fails the gate, the
fixed build passes it (real processes)."""

from __future__ import annotations

import pytest

from runs.models import Verdict
from tests.loop.conftest import FIXED
from tests.loop.conftest import demo_service as demo_service
from tests.loop.test_pipeline import _deploy_and_test

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _rules(verdict: Verdict) -> dict[str, str]:
    return {r["key"]: r["outcome"] for r in verdict.rules}


def test_the_faulty_build_fails_the_gate_and_the_fixed_build_passes(demo_service):
    deploy, run = _deploy_and_test(demo_service)

    faulty = Verdict.objects.get(run=run)
    assert faulty.revision == deploy.revision
    assert faulty.outcome == "fail"
    assert _rules(faulty) == {
        "run_finished": "pass",
        "min_tests": "pass",
        "goal": "fail",
        "no_new_signatures": "not_applicable",  # the service's first revision
        "no_open_incident": "pass",
    }

    deploy, run = _deploy_and_test(demo_service, image=FIXED)

    fixed = Verdict.objects.get(run=run)
    assert fixed.revision == deploy.revision
    assert fixed.outcome == "pass", fixed.rules
    assert _rules(fixed)["no_new_signatures"] == "pass"
