"""Failures by triage category: what the period's failing results were, as people triaged them."""

from __future__ import annotations

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


def triage_evidence(scope: Scope):
    """The signatures behind the figure: each with its failures in the period and the last run
    that failed so, by category (untriaged last), then by failures."""
    failing = Q(results__run__in=completed_runs(scope).values("pk"), results__outcome__in=FAILING)
    return (
        FailureSignature.objects.filter(failing)
        .annotate(failures=Count("results", filter=failing), last_run=Max("results__run_id"))
        .select_related("suite__service", "triage_analysis", "triage_by")
        .order_by("triage", "-failures", "pk")
    )
