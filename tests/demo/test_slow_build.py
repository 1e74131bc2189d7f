"""The slow build, stageloop-demo:1.4.2: every answer 50 ms later, every test still green.

Only a comparison with the stable revision catches it: no test fails and no absolute latency
threshold (hundreds of ms) is crossed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from demo.app import load_faults
from runs.canary_stats import error_comparison, latency_comparison
from runs.health_seam import revisions_probe_compare
from runs.models import Revision, Service, Verdict
from tests.demo.test_demo_service import GOOD_BUILD, demo_service, junit_outcomes, run_e2e
from tests.factories import RevisionFactory, ServiceFactory

# Starts the demo service as real processes and compares their latencies: a doubled machine load
# would distort the comparison, so CI runs it with the other process tests, one mode at a time.
pytestmark = pytest.mark.slow

SLOW_BUILD = "stageloop-demo:1.4.2"


@pytest.fixture(scope="module")
def slow_service(tmp_path_factory) -> Iterator[str]:
    with demo_service(
        tmp_path_factory.mktemp("slow"), image=SLOW_BUILD, revision="demo-slow-1"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def good_service(tmp_path_factory) -> Iterator[str]:
    with demo_service(
        tmp_path_factory.mktemp("good"), image=GOOD_BUILD, revision="demo-good-1"
    ) as url:
        yield url


def healthz_median_ms(base_url: str, *, requests: int = 10) -> float:
    latencies = []
    with httpx.Client(base_url=base_url, timeout=5) as client:
        client.get("/healthz")  # connect once, so the samples time answers, not handshakes
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/healthz")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return statistics.median(latencies)


def test_the_builds_file_gives_the_slow_build_its_fault():
    assert load_faults(SLOW_BUILD) == {"slow-50ms"}


def test_the_slow_build_answers_its_health_check_50_ms_later(slow_service, good_service):
    slow, good = healthz_median_ms(slow_service), healthz_median_ms(good_service)

    assert slow - good >= 40
    # well under any absolute threshold: only a comparison catches it
    assert slow < 300


def test_the_slow_build_still_reports_healthy(slow_service):
    response = httpx.get(f"{slow_service}/healthz", timeout=5)

    assert response.json() == {"status": "ok", "build": SLOW_BUILD, "revision": "demo-slow-1"}
    assert response.headers["X-Stageloop-Revision"] == "demo-slow-1"


def test_the_slow_build_passes_the_whole_e2e_suite(slow_service, tmp_path):
    result, _ = run_e2e(tmp_path, slow_service, "demo-slow-1")

    assert result.exit_code == 0, result.output_tail
    outcomes = junit_outcomes(result.junit_path)
    assert len(outcomes) >= 25
    assert {outcome for outcome, _ in outcomes.values()} == {"passed"}


@pytest.mark.django_db
def test_the_demo_offers_the_slow_build_without_changing_what_it_deploys_first():
    call_command("seed_demo", password="demo-in-tests", stdout=StringIO())

    chat = Service.objects.get(name="demo-chat")
    assert "1.4.2 passes its tests, +50 ms slower: the canary comparison stops it" in (
        chat.description
    )
    # Deploy and test still starts from the faulty build; the Build menu offers the other two
    assert list(chat.builds.values_list("image", flat=True)) == [
        "stageloop-demo:1.4.0",
        "stageloop-demo:1.4.1",
        "stageloop-demo:1.4.2",
    ]
    assert chat.default_image == GOOD_BUILD
    assert chat.release_policy == "immediate"  # gated and canary are chosen per deploy
    assert chat.canary_step_seconds == 25
    policy = chat.gate_policies.get()
    assert (policy.max_probe_p95_ms, policy.max_probe_error_percent) == (500, 5)


@pytest.mark.django_db
def test_the_demo_history_is_judged_by_the_gate_with_real_passes_and_fails():
    call_command("seed_demo", password="demo-in-tests", stdout=StringIO())

    verdicts = Verdict.objects.filter(revision__service__name="demo-chat")
    revisions = Revision.objects.filter(service__name="demo-chat", runs__isnull=False).distinct()
    assert verdicts.count() == revisions.count() > 0
    outcomes = set(verdicts.values_list("outcome", flat=True))
    assert {"pass", "fail"} <= outcomes, outcomes
    for verdict in verdicts.filter(outcome="fail"):
        assert any(r["outcome"] == "fail" for r in verdict.rules)


def test_the_readme_offers_the_slow_build():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert "`stageloop-demo:1.4.2`" in readme
    assert "passes its tests, +50 ms slower: the canary comparison stops it" in readme


@pytest.mark.django_db
def test_probed_side_by_side_the_slow_build_fails_the_latency_comparison(
    slow_service, good_service
):
    service = ServiceFactory(name="demo-chat", health_path="/healthz")
    stable = RevisionFactory(service=service, name="demo-good-1", url=good_service)
    candidate = RevisionFactory(service=service, name="demo-slow-1", url=slow_service)

    samples = revisions_probe_compare(
        service=service, revisions=[stable, candidate], seconds=6, interval=0.25
    )
    latency = latency_comparison(
        samples[candidate.pk].latencies_ms, samples[stable.pk].latencies_ms, margin_ms=20
    )
    errors = error_comparison(
        samples[candidate.pk].errors,
        samples[candidate.pk].total,
        samples[stable.pk].errors,
        samples[stable.pk].total,
        margin_percent=1,
    )

    assert latency.outcome == "fail", latency
    assert 40 <= latency.effect <= 80
    assert errors.outcome == "pass", errors
