"""The chain judges the revision after its run is imported and analyzed; so does the analyze
task after an upload with a revision; a failing evaluation never breaks either."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analyses.tasks import run_analyze
from runs.lifecycle.deploys import deploy_lifecycle
from runs.lifecycle.runs import run_lifecycle
from runs.models import Build, Deploy, Revision, Service, Suite, TestRun, Verdict
from runs.services import gates, pipeline
from runs.services.loops import loop_start
from runs.services.pipeline import deploy_and_test_execute
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def loop(db):
    service = Service.objects.create(name="web", default_image="web:1.0")
    suite = Suite.objects.create(service=service, name="e2e")
    Build.objects.create(service=service, image="web:1.0", commit_sha="aaa111")
    return loop_start(service=service, suite=suite, max_iterations=3)


def _deployed(deploy):
    revision = Revision.objects.create(
        service=deploy.service, name="web-1", url="http://127.0.0.1:9/", status="ready"
    )
    deploy_lifecycle.move(deploy, Deploy.Status.SUCCEEDED)
    return revision


def _ran(passed: int, failed: int):
    def run_execute(run, revision):
        run_lifecycle.move(
            run,
            TestRun.Status.FAILED if failed else TestRun.Status.PASSED,
            frm=TestRun.Status.RUNNING,
            total=passed + failed,
            passed=passed,
            failed=failed,
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        return run

    return run_execute


def test_the_chain_stores_a_verdict_for_the_deployed_revision(loop, monkeypatch):
    monkeypatch.setattr(pipeline, "deploy_execute", _deployed)
    monkeypatch.setattr(pipeline, "run_execute", _ran(passed=3, failed=1))
    iteration = loop.iterations.get()

    deploy_and_test_execute(deploy_id=iteration.deploy_id)

    verdict = Verdict.objects.get()
    assert verdict.run_id == iteration.run_id
    assert verdict.revision.name == "web-1"
    assert verdict.outcome == "fail"
    assert TestRun.objects.get(pk=iteration.run_id).analyzed_at is not None  # analyzed first


def test_a_failing_evaluation_never_breaks_the_chain(loop, monkeypatch):
    monkeypatch.setattr(pipeline, "deploy_execute", _deployed)
    monkeypatch.setattr(pipeline, "run_execute", _ran(passed=3, failed=0))
    monkeypatch.setattr(gates, "_rules", lambda run, policy: 1 / 0)
    iteration = loop.iterations.get()

    deploy_and_test_execute(deploy_id=iteration.deploy_id)

    run = TestRun.objects.get(pk=iteration.run_id)
    assert run.status == "passed"
    assert "The gate evaluation failed" in run.warnings[-1]
    assert not Verdict.objects.exists()
    iteration.refresh_from_db()
    assert iteration.goal_met is True  # the loop went on


def test_the_analyze_task_judges_an_uploaded_run_with_a_revision(suite, cases, revisions):
    run = make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])
    no_revision = make_run(suite, dict.fromkeys(cases, "passed"))

    run_analyze(run.pk)
    run_analyze(no_revision.pk)
    run_analyze(run.pk)  # a message sent twice judges once

    assert list(Verdict.objects.values_list("run_id", "outcome")) == [(run.pk, "pass")]
