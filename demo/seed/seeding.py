"""Bookkeeping both history seeders share: `demo_history` (the demo's few weeks) and `history`
(synthetic history at scale). Cases keyed as imports key them, failure signatures named as the
importer names them, a run's counts from its results, and the newest revision left serving.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from typing import Any

from reports.services.capability_cases import capability_cases_map
from runs import page_cache
from runs.models import FailureSignature, Revision, Service, Suite, TestCase
from runs.models.testing import case_key_hash
from runs.services.read_models import case_latest_rebuild, flake_window_rebuild
from runs.services.reality import cases_reality_refresh
from runs.signatures import failure_signature


def case_seeded(
    *, suite: Suite, key: str, name: str, classname: str = "", file: str = ""
) -> TestCase:
    """An unsaved TestCase whose key_hash is the one an import of ``key`` would give it."""
    return TestCase(
        suite=suite,
        key=key,
        key_hash=case_key_hash(key),
        name=name,
        classname=classname,
        file=file,
    )


def signatures_seed(*, suite: Suite, examples: Iterable[tuple[str, str]]) -> list[FailureSignature]:
    """One signature per (kind, example message), named as the importer names that message, so
    real failures with it join the seeded one."""
    made = []
    for kind, example in examples:
        signature = failure_signature(kind=kind, message=example)
        made.append(
            FailureSignature.objects.get_or_create(
                suite=suite,
                hash=signature.hash,
                defaults={"kind": kind, "normalized": signature.normalized, "example": example},
            )[0]
        )
    return made


def revision_seed_identity(*, service: Service, number: int, rng: random.Random) -> dict[str, str]:
    """The name and image of a seeded revision ``number`` (one draw from ``rng``)."""
    return {
        "name": f"{service.name}-{number:05d}-{rng.randrange(16**3):03x}",
        "image": f"registry.local/{service.name}:1.{number}.0",
    }


def commit_sha_seed(text: str) -> str:
    """A made-up commit sha, the same for the same text."""
    return case_key_hash(text)


def run_counts_tally(results: Iterable[tuple[str, bool]]) -> dict[str, Any]:
    """A finished TestRun's status and counts from its results' (outcome, flaky) pairs."""
    counts: Counter[str] = Counter()
    flaky = 0
    for outcome, is_flaky in results:
        counts[outcome] += 1
        flaky += is_flaky
    total = sum(counts.values())
    return {
        "status": "passed" if counts["failed"] + counts["error"] == 0 else "failed",
        "total": total,
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "flaky": flaky,
        "progress_done": total,
        "progress_total": total,
    }


def history_finish(*, suite: Suite, serving: Revision | None) -> None:
    """Mark which tests were ever real, and leave ``serving`` (if any) as the service's current
    revision with all traffic."""
    cases_reality_refresh(suite_id=suite.pk)
    flake_window_rebuild(suite_id=suite.pk)
    case_latest_rebuild(suite_id=suite.pk)  # the summary's latest result per test
    # Its tests were bulk-created: map them to the capabilities (reports.CapabilityCase).
    capability_cases_map(case_ids=list(suite.cases.values_list("pk", flat=True)))
    page_cache.generation_bump(service_id=suite.service_id)
    if serving is not None:
        Revision.objects.filter(pk=serving.pk).update(
            status=Revision.Status.READY, traffic_percent=100
        )
        service = suite.service
        service.current_revision = serving
        service.save(update_fields=["current_revision"])
