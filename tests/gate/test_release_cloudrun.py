"""Gated and canary releases on Cloud Run: the real ``google-cloud-run`` client against the fake
Admin API over REST. The suite's run and the probes' samples stand for what happens on Google's
side (the tagged URL is not on this machine); every traffic move is a real Admin API call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine.deploy.cloudrun import CloudRunTarget
from health.services.comparing import Samples
from runs.models import Deploy, GatePolicy, Revision, Service, Suite, TestRun, Verdict
from runs.services.deploy_step import deploy_claim, deploy_execute, target_for
from runs.services.gates import gate_evaluate
from runs.services.release import release_decide
from runs.services.sweeper import runs_sweep
from tests.fakes.cloudrun_api import FakeCloudRun
from tests.runs.conftest import FIRST, SERVICE, cloudrun_service
from tests.runs.conftest import api as api
from tests.runs.conftest import stable as stable

pytestmark = pytest.mark.django_db
PATCH = "PATCH /v2/" + SERVICE


@pytest.fixture
def web(api: FakeCloudRun, stable) -> Service:
    service = cloudrun_service(api, timeout=1)
    Suite.objects.create(service=service, name="e2e")
    Service.objects.filter(pk=service.pk).update(canary_steps=[10, 50, 100])
    service.refresh_from_db()
    return service


def candidate_up(service: Service, policy: str) -> tuple[Deploy, Revision]:
    """A gated deploy through its deploy step: the candidate exists with no traffic."""
    deploy = Deploy.objects.create(
        service=service,
        image="registry/web:2",
        release_policy=policy,
        previous_revision=service.current_revision,
    )
    claimed = deploy_claim(deploy_id=deploy.pk)
    assert claimed is not None
    revision = deploy_execute(claimed)
    assert revision is not None, Deploy.objects.get(pk=deploy.pk).error
    return Deploy.objects.get(pk=deploy.pk), revision


def judged(deploy: Deploy, revision: Revision, *, failed: int) -> TestRun:
    run = TestRun.objects.create(
        suite=deploy.service.suites.get(),
        service=deploy.service,
        deploy=deploy,
        revision=revision,
        status="failed" if failed else "passed",
        total=10,
        passed=10 - failed,
        failed=failed,
    )
    gate_evaluate(run=run)
    return run


def samples(monkeypatch, candidate_ms: float, stable_ms: float) -> list[int]:
    """Both revisions' probes over each step, as Cloud Run's revisions would answer them."""
    asked: list[int] = []

    def compare(*, service, revisions, seconds, interval, stop=None):
        asked.append(len(revisions))
        cand, base = revisions
        return {
            cand.pk: Samples(
                revision_id=cand.pk,
                latencies_ms=[candidate_ms + (i % 5) for i in range(30)],
                total=30,
            ),
            base.pk: Samples(
                revision_id=base.pk, latencies_ms=[stable_ms + (i % 5) for i in range(30)], total=30
            ),
        }

    monkeypatch.setattr("runs.services.release.revisions_probe_compare", compare)
    return asked


def tags(api: FakeCloudRun) -> dict[str, str]:
    return {t["tag"]: t["revision"] for t in api.services[SERVICE]["traffic"] if t.get("tag")}


def test_a_gated_candidate_gets_a_tagged_url_and_no_traffic(api: FakeCloudRun, web) -> None:
    deploy, revision = candidate_up(web, "gated")

    assert api.split(SERVICE) == {FIRST: 100}
    assert revision.url.startswith(f"https://deploy-{deploy.pk}---")
    assert tags(api) == {f"deploy-{deploy.pk}": revision.name}
    assert (deploy.status, deploy.release) == ("running", "testing")
    web.refresh_from_db()
    assert web.current_revision == revision  # the suite and probes reach the candidate


def test_gate_pass_promotes_the_candidate(api: FakeCloudRun, web) -> None:
    deploy, revision = candidate_up(web, "gated")
    run = judged(deploy, revision, failed=0)

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("succeeded", "promoted"), deploy.release_note
    assert api.split(SERVICE) == {revision.name: 100}
    assert deploy.traffic_after == [{"revision": revision.name, "percent": 100}]
    assert Revision.objects.get(name=FIRST).status == "retired"
    assert f"{SERVICE}/revisions/{FIRST}" in api.revisions  # kept at 0 % to roll back to


def test_gate_fail_leaves_traffic_untouched_and_retires_the_candidate(
    api: FakeCloudRun, web
) -> None:
    deploy, revision = candidate_up(web, "gated")
    run = judged(deploy, revision, failed=2)
    updates_before = sum(1 for r in api.requests if r[0] == "PATCH")

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("failed", "refused")
    assert api.split(SERVICE) == {FIRST: 100}
    assert "traffic never moved" in deploy.release_note
    verdict = Verdict.objects.get(run=run)
    assert f"verdict #{verdict.pk}" in deploy.release_note
    revision.refresh_from_db()
    assert revision.status == "retired"
    assert tags(api) == {}  # its tagged URL is gone
    assert f"{SERVICE}/revisions/{revision.name}" in api.revisions  # kept: an override may want it
    # the only update after the verdict removed the tag; none moved traffic
    assert sum(1 for r in api.requests if r[0] == "PATCH") == updates_before + 1
    web.refresh_from_db()
    assert web.current_revision.name == FIRST


def test_a_canary_step_that_fails_rolls_traffic_back(api: FakeCloudRun, web, monkeypatch) -> None:
    asked = samples(monkeypatch, candidate_ms=80, stable_ms=20)
    deploy, revision = candidate_up(web, "canary")
    run = judged(deploy, revision, failed=0)

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("failed", "rolled_back"), deploy.release_note
    assert asked == [2]  # one step, then back
    step = deploy.release_steps[0]
    assert (step["percent"], step["outcome"]) == (10, "fail")
    assert {t["revision"]: t["percent"] for t in step["split"]} == {FIRST: 90, revision.name: 10}
    assert api.split(SERVICE) == {FIRST: 100}
    assert "traffic is back on" in deploy.release_note


def test_a_canary_that_holds_up_is_promoted_step_by_step(
    api: FakeCloudRun, web, monkeypatch
) -> None:
    samples(monkeypatch, candidate_ms=21, stable_ms=20)  # 1 ms slower: below the margin
    deploy, revision = candidate_up(web, "canary")
    run = judged(deploy, revision, failed=0)

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("succeeded", "promoted"), deploy.release_note
    assert [(s["percent"], s["outcome"]) for s in deploy.release_steps] == [
        (10, "pass"),
        (50, "pass"),
    ]
    assert api.split(SERVICE) == {revision.name: 100}


def test_an_update_failing_mid_canary_sends_traffic_back_and_says_so(
    api: FakeCloudRun, web, monkeypatch
) -> None:
    samples(monkeypatch, candidate_ms=20, stable_ms=20)
    deploy, revision = candidate_up(web, "canary")
    run = judged(deploy, revision, failed=0)
    done = sum(1 for r in api.requests if r[0] == "PATCH")
    api.fail_calls = {PATCH: {done + 2: 500}}  # the move to 50 %

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("failed", "rolled_back"), deploy.release_note
    assert [(s["percent"], s["outcome"]) for s in deploy.release_steps] == [
        (10, "pass"),
        (50, "error"),
    ]
    assert deploy.release_note.startswith(f"Moving 50 % to {revision.name} failed")
    assert api.split(SERVICE) == {FIRST: 100}
    assert f"traffic is back on {FIRST} (100 %)" in deploy.release_note


def test_an_operation_that_never_ends_mid_canary_leaves_a_record_of_where_traffic_is(
    api: FakeCloudRun, web, monkeypatch
) -> None:
    samples(monkeypatch, candidate_ms=20, stable_ms=20)
    deploy, revision = candidate_up(web, "canary")
    run = judged(deploy, revision, failed=0)
    asked: list[int] = []
    real_split = CloudRunTarget.split

    def split(self, stable, candidate, percent, *, tag=""):
        asked.append(percent)
        if percent == 50:
            api.never_done = True  # from here on Cloud Run finishes no operation
        return real_split(self, stable, candidate, percent, tag=tag)

    monkeypatch.setattr(CloudRunTarget, "split", split)

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    assert asked == [10, 50, 0]  # the 50 % move timed out, then the way back did too
    assert (deploy.status, deploy.release) == ("failed", "failed"), deploy.release_note
    assert "timed out" in deploy.release_note
    # Nothing after the 10 % step finished: that split still holds, and the record says so.
    assert api.split(SERVICE) == {FIRST: 90, revision.name: 10}
    assert f"the target reports traffic {FIRST} (90 %), {revision.name} (10 %)" in (
        deploy.release_note
    )


def test_a_dry_run_policy_promotes_anyway_and_says_what_the_gate_would_have_done(
    api: FakeCloudRun, web
) -> None:
    GatePolicy.objects.create(service=web, dry_run=True)
    deploy, revision = candidate_up(web, "gated")
    run = judged(deploy, revision, failed=2)

    release_decide(deploy=deploy, candidate=revision, run=run)

    deploy.refresh_from_db()
    verdict = Verdict.objects.get(run=run)
    assert (verdict.outcome, verdict.dry_run) == ("fail", True)
    assert (deploy.status, deploy.release) == ("succeeded", "promoted")
    assert deploy.release_note.startswith("Dry run: the gate said fail, going on anyway.")
    assert api.split(SERVICE) == {revision.name: 100}


def test_a_worker_lost_mid_canary_gets_traffic_sent_back_by_the_sweeper(
    api: FakeCloudRun, web
) -> None:
    deploy, revision = candidate_up(web, "canary")
    target = target_for(web)
    target.split(FIRST, revision.name, 10, tag=f"deploy-{deploy.pk}")
    Deploy.objects.filter(pk=deploy.pk).update(
        release="canary",
        lease_holder="worker@elsewhere:1",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert api.split(SERVICE) == {FIRST: 90, revision.name: 10}

    runs_sweep()

    deploy.refresh_from_db()
    assert (deploy.status, deploy.release) == ("lost", "rolled_back")
    assert api.split(SERVICE) == {FIRST: 100}
    assert f"the release was rolled back: traffic on {FIRST} (100 %)" in deploy.error
    revision.refresh_from_db()
    assert revision.status == "retired"
    web.refresh_from_db()
    assert web.current_revision.name == FIRST
