"""Gated and canary releases on the local target, with the demo service's real processes: the
faulty build never takes traffic, the fixed build is promoted, the slow build (+50 ms) passes its
tests and is rolled back by the canary comparison at the first step."""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from runs.models import Deploy, Revision, Service, Verdict
from runs.services.release import release_abort_request
from tests.loop.conftest import FAULTY, FIXED, process_alive
from tests.loop.conftest import demo_service as demo_service
from tests.loop.test_pipeline import _deploy_and_test

SLOW = "stageloop-demo:1.4.2"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fast_canary(settings, demo_service):
    settings.CANARY_PROBE_INTERVAL = 0.1  # 30 samples per revision in a 3 s step
    Service.objects.filter(pk=demo_service.pk).update(
        canary_steps=[10, 50, 100], canary_step_seconds=3
    )
    demo_service.refresh_from_db()
    return demo_service


def _traffic(deploy: Deploy) -> dict[str, int]:
    return {t["revision"]: t["percent"] for t in deploy.traffic_after}


def _serves(revision: Revision) -> str:
    response = httpx.get(revision.url + "/healthz", timeout=5)
    response.raise_for_status()
    return response.headers["X-Stageloop-Revision"]


def test_gated_faulty_build_never_takes_traffic_and_the_fixed_build_is_promoted(fast_canary):
    service = fast_canary
    stable_deploy, _ = _deploy_and_test(service, image=FIXED)
    stable = stable_deploy.revision
    assert stable_deploy.status == "succeeded" and stable_deploy.release == ""

    deploy, run = _deploy_and_test(service, image=FAULTY, release_policy="gated")

    assert run.status == "failed"
    assert run.revision == deploy.revision  # the suite ran against the candidate's own URL
    verdict = Verdict.objects.get(run=run, stage="before_traffic")
    assert verdict.outcome == "fail"
    assert deploy.status == "failed"
    assert deploy.release == "refused"
    assert "traffic never moved" in deploy.release_note
    assert _traffic(deploy) == {stable.name: 100}
    assert f"verdict #{verdict.pk}" in deploy.release_note
    candidate = Revision.objects.get(pk=deploy.revision_id)
    assert candidate.status == "retired"
    assert not process_alive(candidate.target_state["pid"])
    service.refresh_from_db()
    assert service.current_revision_id == stable.pk
    assert _serves(stable) == stable.name

    deploy, run = _deploy_and_test(service, image=FIXED, release_policy="gated")

    assert run.status == "passed"
    assert Verdict.objects.get(run=run, stage="before_traffic").outcome == "pass"
    assert (deploy.status, deploy.release) == ("succeeded", "promoted"), deploy.release_note
    assert _traffic(deploy) == {deploy.revision.name: 100}
    service.refresh_from_db()
    assert service.current_revision_id == deploy.revision_id
    stable.refresh_from_db()
    assert stable.status == "retired"
    assert not process_alive(stable.target_state["pid"])


def test_canary_rolls_the_slow_build_back_at_the_first_step_and_promotes_the_fixed_one(
    fast_canary,
):
    service = fast_canary
    stable = _deploy_and_test(service, image=FIXED)[0].revision

    deploy, run = _deploy_and_test(service, image=SLOW, release_policy="canary")

    assert run.status == "passed"  # its tests pass: only the comparison can stop it
    assert Verdict.objects.get(run=run, stage="before_traffic").outcome == "pass"
    assert (deploy.status, deploy.release) == ("failed", "rolled_back"), deploy.release_note
    steps = deploy.release_steps
    assert [s["percent"] for s in steps] == [10]
    assert steps[0]["outcome"] == "fail"
    assert {t["revision"]: t["percent"] for t in steps[0]["split"]} == {
        stable.name: 90,
        deploy.revision.name: 10,
    }
    step = Verdict.objects.get(pk=steps[0]["verdict"])
    rules = {r["key"]: r for r in step.rules}
    assert rules["canary_latency"]["outcome"] == "fail"
    assert rules["canary_errors"]["outcome"] == "pass"
    assert re.search(r"\bp [<=] 0\.\d+", rules["canary_latency"]["measured"])
    assert _traffic(deploy) == {stable.name: 100}
    assert "traffic is back on" in deploy.release_note
    service.refresh_from_db()
    assert service.current_revision_id == stable.pk

    deploy, run = _deploy_and_test(service, image=FIXED, release_policy="canary")

    assert (deploy.status, deploy.release) == ("succeeded", "promoted"), deploy.release_note
    assert [(s["percent"], s["outcome"]) for s in deploy.release_steps] == [
        (10, "pass"),
        (50, "pass"),
    ]
    assert _traffic(deploy) == {deploy.revision.name: 100}


def test_an_operator_rolls_a_canary_back_at_once(fast_canary, settings):
    service = fast_canary
    Service.objects.filter(pk=service.pk).update(canary_step_seconds=60)
    service.refresh_from_db()
    stable = _deploy_and_test(service, image=FIXED)[0].revision

    done: list[tuple[Deploy, object]] = []
    worker = threading.Thread(
        target=lambda: done.append(_deploy_and_test(service, image=FIXED, release_policy="canary"))
    )
    worker.start()
    deadline = time.monotonic() + 120
    deploy = None
    while time.monotonic() < deadline:
        deploy = Deploy.objects.filter(service=service, release="canary").first()
        if deploy is not None and deploy.release_steps:
            break
        time.sleep(0.2)
    assert deploy is not None and deploy.release_steps, "the canary never started"
    asked = time.monotonic()
    assert release_abort_request(deploy=deploy, who="ops", reason="pager is ringing")
    worker.join(timeout=30)
    took = time.monotonic() - asked
    assert not worker.is_alive()

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("failed", "rolled_back")
    assert "ops: pager is ringing" in deploy.release_note
    assert deploy.release_steps[0]["outcome"] == "aborted"
    assert _traffic(deploy) == {stable.name: 100}
    assert took < 10, f"the rollback took {took:.1f} s after it was asked"


def test_a_first_revision_has_no_canary_to_compare_and_is_promoted(fast_canary):
    deploy, run = _deploy_and_test(fast_canary, image=FIXED, release_policy="canary")

    assert (deploy.status, deploy.release) == ("succeeded", "promoted"), deploy.release_note
    assert deploy.release_note.startswith("First revision: no stable revision to compare")
    assert deploy.release_steps == []
    canary = Verdict.objects.get(run=run, stage="canary")
    assert canary.outcome == "pass"
    assert {r["outcome"] for r in canary.rules} == {"not_applicable"}
    assert _traffic(deploy) == {deploy.revision.name: 100}
    assert _serves(deploy.revision) == deploy.revision.name
