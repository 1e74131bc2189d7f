"""Every allowed and every forbidden status move of a deploy, a run and a loop."""

from __future__ import annotations

import itertools

import pytest

from runs.lifecycle.deploys import deploy_lifecycle
from runs.lifecycle.loops import loop_lifecycle
from runs.lifecycle.machine import IllegalTransition
from runs.lifecycle.runs import run_lifecycle
from runs.models import Deploy, Loop, TestRun
from tests.factories import RunFactory, ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db

LIFECYCLES = {
    "deploy": (deploy_lifecycle, Deploy.Status),
    "run": (run_lifecycle, TestRun.Status),
    "loop": (loop_lifecycle, Loop.Status),
}


def _row(kind: str, status: str):
    if kind == "deploy":
        return Deploy.objects.create(service=ServiceFactory(), image="img:1", status=status)
    if kind == "run":
        return RunFactory(status=status)
    suite = SuiteFactory()
    return Loop.objects.create(service=suite.service, suite=suite, status=status)


def _pairs(kind: str):
    _machine, statuses = LIFECYCLES[kind]
    return [(kind, a, b) for a, b in itertools.product(statuses.values, repeat=2)]


ALL_PAIRS = [pair for kind in LIFECYCLES for pair in _pairs(kind)]


def test_every_status_of_each_model_is_in_its_table():
    for machine, statuses in LIFECYCLES.values():
        assert set(machine.allowed) == set(statuses.values)


@pytest.mark.parametrize(("kind", "src", "dst"), ALL_PAIRS)
def test_move(kind, src, dst):
    machine, _ = LIFECYCLES[kind]
    row = _row(kind, src)
    if machine.can(src, dst):
        assert machine.move(row, dst) == 1
        assert type(row).objects.get(pk=row.pk).status == dst
        assert row.status == dst
    else:
        assert machine.move(row, dst) == 0
        assert type(row).objects.get(pk=row.pk).status == src
        with pytest.raises(IllegalTransition, match=f"cannot move .*{dst}"):
            machine.move(row, dst, strict=True)
        with pytest.raises(IllegalTransition, match="not an allowed move"):
            machine.move(row, dst, frm=[src])
        assert type(row).objects.get(pk=row.pk).status == src


def test_final_states_are_final():
    assert deploy_lifecycle.final == {"succeeded", "failed", "cancelled", "lost"}
    assert run_lifecycle.final == {"passed", "failed", "error", "cancelled", "lost"}
    assert loop_lifecycle.final == {"succeeded", "exhausted", "cancelled"}


def test_an_unknown_status_is_refused():
    row = _row("deploy", "queued")
    with pytest.raises(IllegalTransition, match="not a status"):
        deploy_lifecycle.move(row, "exploded")


def test_move_sets_other_fields_in_the_same_update():
    row = _row("run", "running")
    assert run_lifecycle.move(row.pk, "error", error="boom") == 1
    row.refresh_from_db()
    assert (row.status, row.error) == ("error", "boom")


def test_two_movers_racing_on_one_row_only_one_wins():
    row = _row("deploy", "running")
    first = deploy_lifecycle.move(row.pk, "lost", error="sweeper")
    second = deploy_lifecycle.move(row.pk, "succeeded")
    assert (first, second) == (1, 0)
    row.refresh_from_db()
    assert (row.status, row.error) == ("lost", "sweeper")
