"""Failures by triage category: what the period's failing results were, as people triaged them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Q

from reports.figures import Figure
from reports.scope import Scope
from reports.selectors.common import evidence_url
from reports.selectors.testing import completed_runs
from runs.models import FailureSignature, TestResult, Triage

FAILING = ("failed", "error")
# Categories in the order every rendering lists them; untriaged last: what is left to do.
ORDER = [Triage.PRODUCT_BUG, Triage.TEST_BUG, Triage.ENVIRONMENT, Triage.KNOWN_ISSUE]
DEFINITION = (
    "failed and errored results of the period's completed runs, by the triage of their failure "
    "signature now (a signature keeps its triage across runs); results without a signature count "
    "as untriaged"
)


def _failing_results(scope: Scope):
    return TestResult.objects.filter(
        run__in=completed_runs(scope).values("pk"), outcome__in=FAILING
    )


def triage_counts(scope: Scope) -> dict[str, int]:
    """How many failing results each triage category holds in the scope; one query."""
    # COUNT(run_id), not COUNT(id): the partial index result_run_failing (run, case) INCLUDE
    # (signature) then answers alone, an index-only scan (bench/pages.py, summary).
    counts = _failing_results(scope).aggregate(
        total=Count("run"),
        **{c.value: Count("run", filter=Q(signature__triage=c.value)) for c in ORDER},
    )
    counts[Triage.UNTRIAGED.value] = counts["total"] - sum(counts[c.value] for c in ORDER)
    return counts


def triage_figure(scope: Scope) -> Figure:
    counts = triage_counts(scope)
    total = counts["total"]
    parts = [f"{counts[c.value]} {c.label.lower()}" for c in [*ORDER, Triage.UNTRIAGED]]
    text = f"{total} failures: {', '.join(parts)}" if total else "no failures in the period"
    return Figure(
        key="tests.failures_by_triage",
        label="Failures by triage category",
        text=text,
        value=total,
        unit="failures",
        n=total,
        enough=True,
        evidence_url=evidence_url(scope, "triage"),
        definition=DEFINITION,
    )


@dataclass(frozen=True)
class TriageRows:
    rows: list[FailureSignature]  # each with `failures` and `last_run` set
    total: int  # signatures with a failure in the period


def triage_evidence(scope: Scope, *, offset: int = 0, limit: int | None = None) -> TriageRows:
    """The signatures behind the figure: each with its failures in the period and the last run
    that failed so, by category (untriaged last), then by failures; `limit` of them from
    `offset`. Two queries whatever the period holds."""
    # Grouped from the failing-results index alone (result_run_failing carries the signature):
    # the period's failures are counted first and their few signatures joined after, where
    # starting from the signatures read every failure they ever had, with its heap row
    # (bench/pages.py, evidence triage). COUNT(run_id) keeps the scan index-only; asking for
    # signature IS NOT NULL would make the planner misjudge the rows, so the failures without
    # a signature form a group of their own, left out here.
    groups = [
        row
        for row in _failing_results(scope)
        .values("signature_id", "signature__triage")
        .annotate(failures=Count("run"), last_run=Max("run"))
        .order_by("signature__triage", "-failures", "signature_id")
        .values_list("signature_id", "failures", "last_run")
        if row[0] is not None
    ]
    shown = groups[offset : None if limit is None else offset + limit]
    signatures = FailureSignature.objects.select_related(
        "suite__service", "triage_analysis", "triage_by"
    ).in_bulk([pk for pk, _, _ in shown])
    rows = []
    for pk, failures, last_run in shown:
        signature = signatures[pk]
        # What the template shows beside the signature's own fields.
        setattr(signature, "failures", failures)  # noqa: B010
        setattr(signature, "last_run", last_run)  # noqa: B010
        rows.append(signature)
    return TriageRows(rows=rows, total=len(groups))
