"""Any exception in the deploy-and-test chain ends its rows at once, and its loop goes on.

Faults are injected by replacing one step of the chain with a function that raises, as a bug,
a lost database connection or Celery's soft time limit would.
"""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from runs.lifecycle.deploys import deploy_lifecycle
from runs.models import Build, Deploy, Loop, Suite, TestRun
from runs.services import pipeline
from runs.services.loops import loop_start
from runs.services.pipeline import deploy_and_test_execute
from tests.loop.conftest import FIXED

pytestmark = pytest.mark.django_db


def _raise(exc: BaseException):
    def step(*args, **kwargs):
        raise exc

    return step


@pytest.fixture
def loop(db):
    from runs.models import Service

    service = Service.objects.create(name="web", default_image="web:1.0")
    suite = Suite.objects.create(service=service, name="e2e")
    Build.objects.create(service=service, image="web:1.0", commit_sha="aaa111")
    return loop_start(service=service, suite=suite, max_iterations=3)


@pytest.mark.parametrize(
    "exc", [RuntimeError("bug in a step"), SoftTimeLimitExceeded("soft time limit")]
)
def test_a_crash_in_the_deploy_step_ends_deploy_run_and_iteration(loop, monkeypatch, exc):
    monkeypatch.setattr(pipeline, "deploy_execute", _raise(exc))
    iteration = loop.iterations.get()

    deploy_and_test_execute(deploy_id=iteration.deploy_id)

    deploy = Deploy.objects.get(pk=iteration.deploy_id)
    run = TestRun.objects.get(pk=iteration.run_id)
    assert deploy.status == "failed"
    assert type(exc).__name__ in deploy.error and "Stageloop stopped" in deploy.error
    assert deploy.finished_at is not None
    assert run.status == "error"
    assert f"deploy #{deploy.pk}" in run.error
    iteration.refresh_from_db()
    assert iteration.goal_met is False
    loop.refresh_from_db()
    assert loop.status == Loop.Status.WAITING  # no newer build: it waits, it is not stuck


def test_a_crash_in_the_test_step_ends_the_run_and_the_iteration(loop, monkeypatch):
    def deployed(deploy):
        from runs.models import Revision

        revision = Revision.objects.create(
            service=deploy.service, name="web-1", url="http://127.0.0.1:9/", status="ready"
        )
        deploy_lifecycle.move(deploy, Deploy.Status.SUCCEEDED)
        return revision

    monkeypatch.setattr(pipeline, "deploy_execute", deployed)
    monkeypatch.setattr(pipeline, "run_execute", _raise(RuntimeError("runner bug")))
    iteration = loop.iterations.get()

    deploy_and_test_execute(deploy_id=iteration.deploy_id)

    run = TestRun.objects.get(pk=iteration.run_id)
    assert run.status == "error"
    assert "runner bug" in run.error
    assert Deploy.objects.get(pk=iteration.deploy_id).status == "succeeded"
    iteration.refresh_from_db()
    assert iteration.goal_met is False
    assert Loop.objects.get(pk=loop.pk).status == Loop.Status.WAITING


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_analyze_step_that_raises_still_finishes_the_loop(tmp_path, monkeypatch):
    from tests.loop.conftest import make_demo_service, stop_revisions

    service = make_demo_service(tmp_path)
    Build.objects.create(service=service, image=FIXED, commit_sha="5a2b9d1")
    monkeypatch.setattr(pipeline, "run_analyze_execute", _raise(RuntimeError("analyze bug")))
    try:
        loop = loop_start(service=service, suite=service.suites.get(), max_iterations=1)
        iteration = loop.iterations.get()
        deploy_and_test_execute(deploy_id=iteration.deploy_id)
    finally:
        stop_revisions()

    run = TestRun.objects.get(pk=iteration.run_id)
    assert run.status == "passed"
    assert any("analyze bug" in warning for warning in run.warnings)
    loop.refresh_from_db()
    assert loop.status in (Loop.Status.SUCCEEDED, Loop.Status.EXHAUSTED)
    assert loop.finished_at is not None
