"""Release gate timings: promotion after a passing suite, rollback after a failing canary step,
and the gate's evaluation with 10 M results in the database (PostgreSQL).

    .venv/bin/python bench/gates.py [--repeat 3] [--runs 10000] [--tests 1000] [--skip-10m]

1. Promotion: a gated deploy of the demo's fixed build on the local target (real processes).
   Measured: from the run's last test (its finished_at) to traffic moved (the promotion's split
   returned), minus the target's own call. Goal: < 2 s.
2. Canary rollback: a canary deploy of the slow build (+50 ms). Measured: from the failing step's
   verdict to traffic restored (the split back to 0 % returned), minus the target's own call.
   Goal: < 5 s.
3. Evaluation: ``gate_evaluate`` on a 1,000-result run with the 10 M-result history of
   bench/pages.py in the same database (seeded once, a few minutes). Goal: p95 < 200 ms.

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/stageloop_bench10m).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import setup

FIXED, SLOW = "stageloop-demo:1.4.1", "stageloop-demo:1.4.2"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class SplitClock:
    """Wraps LocalTarget.split: when each call to a percent returned, and how long it took."""

    def __init__(self) -> None:
        from engine.deploy.local import LocalTarget

        self.calls: list[tuple[int, float, float]] = []  # (percent, started, ended) wall time
        real = LocalTarget.split

        def timed(target, stable, candidate, percent, *, tag=""):
            began = time.time()
            try:
                return real(target, stable, candidate, percent, tag=tag)
            finally:
                self.calls.append((percent, began, time.time()))

        LocalTarget.split = timed  # type: ignore[method-assign]

    def last(self, percent: int) -> tuple[float, float]:
        began, ended = next((b, e) for p, b, e in reversed(self.calls) if p == percent)
        return began, ended


def _demo_service(name: str):
    from django.conf import settings

    from runs.models import Service, Suite

    Service.objects.filter(name=name).delete()
    root = Path(settings.BASE_DIR)
    service = Service.objects.create(
        name=name,
        target_kind=Service.TargetKind.LOCAL,
        target_config={
            "command": [sys.executable, str(root / "demo" / "app.py")],
            "cwd": str(root),
            "state_dir": tempfile.mkdtemp(prefix="bench-gates-"),
        },
        health_path="/healthz",
        default_image=FIXED,
        canary_steps=[10, 50, 100],
        canary_step_seconds=20,
    )
    Suite.objects.create(
        service=service,
        name="e2e",
        command=[sys.executable, "-m", "pytest", "-q"],
        working_dir=str(root / "demo" / "e2e"),
        timeout_seconds=300,
        test_timeout_seconds=10,
    )
    return service


def _deploy(service, image: str, policy: str):
    from runs.services.deploys import deploy_and_test_create
    from runs.services.pipeline import deploy_and_test_execute

    deploy, run = deploy_and_test_create(service=service, image=image, release_policy=policy)
    deploy_and_test_execute(deploy_id=deploy.pk)
    deploy.refresh_from_db()
    if run is not None:
        run.refresh_from_db()
    return deploy, run


def _stop(service) -> None:
    from runs.services.deploy_step import target_for
    from runs.services.traffic import revision_info

    target = target_for(service)
    for revision in service.revisions.all():
        target.retire(revision_info(revision))


def _ts(value: datetime) -> float:
    return value.timestamp()


def bench_promotion(repeat: int, clock: SplitClock) -> list[float]:
    service = _demo_service("bench-gates-promote")
    overheads = []
    try:
        _deploy(service, FIXED, "immediate")
        for i in range(repeat):
            deploy, run = _deploy(service, FIXED, "gated")
            assert deploy.release == "promoted", deploy.release_note
            began, ended = clock.last(100)
            total = ended - _ts(run.finished_at)
            call = ended - began
            overheads.append(total - call)
            print(
                f"  promotion {i + 1}: last test → traffic moved {total:.2f} s, of which the "
                f"target's call {call:.2f} s: Stageloop {total - call:.2f} s"
            )
    finally:
        _stop(service)
    return overheads


def bench_canary_rollback(repeat: int, clock: SplitClock) -> list[float]:
    from runs.models import Verdict

    service = _demo_service("bench-gates-canary")
    overheads = []
    try:
        _deploy(service, FIXED, "immediate")
        for i in range(repeat):
            deploy, _run = _deploy(service, SLOW, "canary")
            assert deploy.release == "rolled_back", deploy.release_note
            failed = Verdict.objects.get(pk=deploy.release_steps[-1]["verdict"])
            began, ended = clock.last(0)
            total = ended - _ts(failed.created_at)
            call = ended - began
            overheads.append(total - call)
            print(
                f"  canary {i + 1}: failing step judged → traffic restored {total:.2f} s, of "
                f"which the target's call {call:.2f} s: Stageloop {total - call:.2f} s"
            )
    finally:
        _stop(service)
    return overheads


def bench_evaluation(repeat: int, runs: int, tests: int) -> list[float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.pages import ensure_history
    from runs.models import TestResult, TestRun, Verdict
    from runs.services.gates import gate_evaluate

    ensure_history(runs, tests, "seeded-web", "e2e")
    run = (
        TestRun.objects.filter(service__name="seeded-web", status__in=("passed", "failed"))
        .order_by("-created_at")
        .first()
    )
    assert run is not None and run.revision_id is not None
    results = TestResult.objects.count()
    print(f"  judging run #{run.pk} ({run.total} results) with {results:,} results stored")
    times = []
    for _ in range(repeat):
        Verdict.objects.filter(run=run).delete()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            verdict = gate_evaluate(run=run)
            times.append((time.perf_counter() - began) * 1000)
    assert verdict is not None
    print(f"  verdict {verdict.outcome}, {len(queries)} queries")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--tests", type=int, default=1_000)
    parser.add_argument("--skip-10m", action="store_true", help="skip the 10 M evaluation")
    args = parser.parse_args()
    setup("stageloop_bench10m")
    clock = SplitClock()

    print("1. Promotion after a passing gated suite (local target, demo fixed build)")
    promote = bench_promotion(args.repeat, clock)
    print("2. Rollback after a failing canary step (local target, demo slow build)")
    rollback = bench_canary_rollback(args.repeat, clock)
    evaluation: list[float] = []
    if not args.skip_10m:
        print(f"3. Gate evaluation with {args.runs * args.tests:,} results")
        evaluation = bench_evaluation(max(args.repeat, 20), args.runs, args.tests)

    print("\nResults")
    worst = max(promote)
    print(
        f"  last test → traffic moved, beyond the target's call: median "
        f"{statistics.median(promote):.2f} s, worst {worst:.2f} s (goal < 2 s: "
        f"{worst / 2:.2f}x the goal)"
    )
    worst = max(rollback)
    print(
        f"  failing canary step → traffic restored, beyond the target's call: median "
        f"{statistics.median(rollback):.2f} s, worst {worst:.2f} s (goal < 5 s: "
        f"{worst / 5:.2f}x the goal)"
    )
    if evaluation:
        p95 = _percentile(evaluation, 0.95)
        print(
            f"  gate evaluation: p50 {statistics.median(evaluation):.1f} ms, p95 {p95:.1f} ms "
            f"(goal < 200 ms: {p95 / 200:.2f}x the goal)"
        )


if __name__ == "__main__":
    main()
