"""Demo history: a few weeks of believable revisions, runs and results, written in bulk."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from demo.seed.seeding import (
    case_seeded,
    commit_sha_seed,
    history_finish,
    revision_seed_identity,
    run_counts_tally,
    signatures_seed,
)
from runs.models import Revision, Suite, TestCase, TestResult, TestRun
from runs.services.gates import gate_evaluate

_FAILURES = [
    ("failed", "AssertionError: expected status 200, got 503 from {host}"),
    ("error", "ConnectionRefusedError: connection refused to 10.0.{n}.7:5432"),
    ("failed", "TimeoutError: stream did not complete within 3.0 s"),
]


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
            case_seeded(
                suite=suite,
                key=name,
                name=name.rsplit("::", 1)[-1],
                classname=name.rsplit("::", 1)[0].rsplit(" \u203a ", 1)[-1],
            )
            for name in test_names
        ]
    )
    signatures = signatures_seed(
        suite=suite,
        examples=[(kind, text.format(host="demo:8080", n=3)) for kind, text in _FAILURES],
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
                **revision_seed_identity(service=service, number=number, rng=rng),
                commit_sha=commit_sha_seed(f"{service.name}{number}"),
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
                rows.append((case, outcome, signature, message, attempts, is_flaky))
            duration = sum(0.05 + rng.random() * 0.4 for _ in rows)
            run = TestRun.objects.create(
                suite=suite,
                service=service,
                revision=revisions[-1],
                trigger=TestRun.Trigger.SEED,
                started_at=started,
                finished_at=started + timedelta(seconds=duration),
                duration=duration,
                **run_counts_tally((row[1], row[5]) for row in rows),
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
    # With keep_current the last revision stays recorded as the one serving (it has no URL).
    history_finish(suite=suite, serving=revisions[-1] if keep_current else None)
    return runs_made


def demo_verdicts_create(*, service) -> int:
    """Let the release gate judge each revision of the seeded history on its latest finished
    run (the default rules: the history has no probe checks of its own to weigh). Returns how
    many verdicts were stored."""
    latest: dict[int, TestRun] = {}
    for run in (
        TestRun.objects.filter(
            service=service,
            revision__isnull=False,
            status__in=(TestRun.Status.PASSED, TestRun.Status.FAILED),
        )
        .order_by("created_at", "pk")
        .only("pk", "revision_id")
    ):
        latest[run.revision_id] = run  # type: ignore[index]
    return sum(1 for run in latest.values() if gate_evaluate(run=run) is not None)
