"""A loop whose goal is the gate ends green only on a passing verdict, not on tests alone."""

from __future__ import annotations

import pytest

from runs.models import GatePolicy, Loop, LoopIteration
from runs.services import loops, pipeline
from runs.services.loops import goal_met
from runs.services.pipeline import deploy_and_test_execute
from tests.gate.test_chain import _deployed, _ran
from tests.gate.test_chain import loop as loop

pytestmark = pytest.mark.django_db


def _gate_loop(loop: Loop) -> Loop:
    Loop.objects.filter(pk=loop.pk).update(goal=Loop.Goal.GATE)
    loop.refresh_from_db()
    return loop


def test_a_passing_verdict_meets_the_goal(loop, monkeypatch):
    loop = _gate_loop(loop)
    monkeypatch.setattr(pipeline, "deploy_execute", _deployed)
    monkeypatch.setattr(pipeline, "run_execute", _ran(passed=3, failed=0))
    monkeypatch.setattr(
        loops, "revision_wait_stable", lambda **kw: type("S", (), {"stable": True})()
    )
    iteration = loop.iterations.get()

    deploy_and_test_execute(deploy_id=iteration.deploy_id)

    assert LoopIteration.objects.get(pk=iteration.pk).goal_met is True
    loop.refresh_from_db()
    assert loop.status == Loop.Status.SUCCEEDED


def test_all_tests_passing_but_too_few_is_not_the_gate(loop, monkeypatch):
    loop = _gate_loop(loop)
    GatePolicy.objects.create(service=loop.service, min_tests=10)
    monkeypatch.setattr(pipeline, "deploy_execute", _deployed)
    monkeypatch.setattr(pipeline, "run_execute", _ran(passed=3, failed=0))
    iteration = loop.iterations.get()

    deploy_and_test_execute(deploy_id=iteration.deploy_id)

    iteration.refresh_from_db()
    assert iteration.goal_met is False
    assert iteration.run is not None
    assert iteration.run.verdicts.get().outcome == "inconclusive"
    assert goal_met(Loop(goal=Loop.Goal.ALL_PASS), iteration.run) is True  # tests alone would
