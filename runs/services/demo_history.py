"""Demo history: a few weeks of believable revisions, runs and results, written in bulk."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from runs.models import FailureSignature, Revision, Suite, TestCase, TestResult, TestRun
from runs.services.reality import cases_reality_refresh
from runs.signatures import failure_signature

_FAILURES = [
    ("failed", "AssertionError: expected status 200, got 503 from {host}"),
    ("error", "ConnectionRefusedError: connection refused to 10.0.{n}.7:5432"),
    ("failed", "TimeoutError: stream did not complete within 3.0 s"),
]


def _key_hash(key: str) -> str:
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()


@transaction.atomic
def demo_history_create(
    *,
    suite: Suite,
    test_names: list[str],
    days: int = 21,
    runs_per_day: int = 3,
    revisions_every_days: int = 3,
    seed: int = 7,
    now: datetime | None = None,
    keep_current: bool = True,
) -> int:
    """Write `days` of runs of `suite` on a new revision every few days; return the run count.

    One test is flaky, one breaks for a few days on one revision and is fixed by the next.
    With `keep_current` the newest revision is left as the service's current one; otherwise
    every revision is retired and the first real deploy makes the current one.
    """
    rng = random.Random(seed)
    now = now or timezone.now()
    service = suite.service
    start = now - timedelta(days=days)
    cases = TestCase.objects.bulk_create(
        [
            TestCase(
                suite=suite,
                key=name,
                key_hash=_key_hash(name),
                name=name.rsplit("::", 1)[-1],
                classname=name.rsplit("::", 1)[0].rsplit(" \u203a ", 1)[-1],
            )
            for name in test_names
        ]
    )
    signatures: list[FailureSignature] = []
    for kind, text in _FAILURES:
        example = text.format(host="demo:8080", n=3)
        # Named as the importer names it, so real failures with this message join it.
        named = failure_signature(kind=kind, message=example)
        signatures.append(
            FailureSignature.objects.get_or_create(
                suite=suite,
                hash=named.hash,
                defaults={"kind": kind, "normalized": named.normalized, "example": example},
            )[0]
        )
    # The demo's story: the streaming test is the one a bad revision breaks.
    broken_case = next((c for c in cases if "stream_sends" in c.key), cases[len(cases) // 2])
    flaky_case = cases[1] if cases[1] is not broken_case else cases[0]
    revisions: list[Revision] = []
    runs_made = 0
    for day in range(days):
        day_start = start + timedelta(days=day)
        if day % revisions_every_days == 0:
            number = len(revisions) + 1
            revision = Revision.objects.create(
                service=service,
                name=f"{service.name}-{number:05d}-{rng.randrange(16**3):03x}",
                image=f"registry.local/{service.name}:1.{number}.0",
                commit_sha=_key_hash(f"{service.name}{number}"),
                commit_message=f"Release 1.{number}.0",
                # No URL: nothing of this history runs, so probes must not look for it.
                status=Revision.Status.RETIRED,
            )
            Revision.objects.filter(pk=revision.pk).update(
                created_at=day_start, ready_at=day_start + timedelta(seconds=40)
            )
            revisions.append(revision)
        broken_revision = len(revisions) == 3
        for slot in range(runs_per_day):
            started = day_start + timedelta(hours=2 + slot * 7, minutes=rng.randrange(50))
            rows = []
            counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
            flaky = 0
            for case in cases:
                outcome, signature, message, attempts, is_flaky = "passed", None, "", 1, False
                if case is broken_case and broken_revision:
                    kind, text = _FAILURES[2]
                    outcome, signature, message = kind, signatures[2], text
                elif case is flaky_case and rng.random() < 0.25:
                    attempts, is_flaky = 2, True
                elif rng.random() < 0.01:
                    index = rng.randrange(2)
                    kind, text = _FAILURES[index]
                    outcome, signature = kind, signatures[index]
                    message = text.format(host="demo:8080", n=rng.randrange(9))
                elif case is cases[-1]:
                    outcome = "skipped"
                counts[outcome] += 1
                flaky += is_flaky
                rows.append((case, outcome, signature, message, attempts, is_flaky))
            duration = sum(0.05 + rng.random() * 0.4 for _ in rows)
            status = "passed" if counts["failed"] + counts["error"] == 0 else "failed"
            run = TestRun.objects.create(
                suite=suite,
                service=service,
                revision=revisions[-1],
                status=status,
                trigger=TestRun.Trigger.SEED,
                started_at=started,
                finished_at=started + timedelta(seconds=duration),
                duration=duration,
                total=len(rows),
                passed=counts["passed"],
                failed=counts["failed"],
                errors=counts["error"],
                skipped=counts["skipped"],
                flaky=flaky,
                progress_done=len(rows),
                progress_total=len(rows),
            )
            TestRun.objects.filter(pk=run.pk).update(created_at=started)
            TestResult.objects.bulk_create(
                [
                    TestResult(
                        run=run,
                        case=case,
                        outcome=outcome,
                        duration=round(0.02 + rng.random() * 0.5, 3),
                        message=message,
                        details=message,
                        attempts=attempts,
                        flaky=is_flaky,
                        signature=signature,
                    )
                    for case, outcome, signature, message, attempts, is_flaky in rows
                ]
            )
            runs_made += 1
    cases_reality_refresh(suite_id=suite.pk)
    if keep_current:  # the last revision stays recorded as the one serving (it has no URL)
        latest = revisions[-1]
        Revision.objects.filter(pk=latest.pk).update(
            status=Revision.Status.READY, traffic_percent=100
        )
        service.current_revision = latest
        service.save(update_fields=["current_revision"])
    return runs_made
