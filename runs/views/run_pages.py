"""The run page, its live progress partial, and downloads of its artifacts."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from runs.models import TestRun, TestRunArtifact
from runs.selectors import owners, reality
from runs.selectors import runs as run_selectors
from runs.selectors.rates import OUTCOMES, RATE_DEFINITION
from runs.selectors.triage import triage_histories
from runs.views.paging import bad_request, query_without

RESULTS_PER_PAGE = 50


def _run(pk: int) -> TestRun:
    return get_object_or_404(
        TestRun.objects.select_related("suite", "service", "revision", "deploy", "pinned_by"), pk=pk
    )


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    outcome = request.GET.get("outcome", "")
    search = request.GET.get("q", "").strip()[:200]
    only = request.GET.get("only", "")
    previous = run_selectors.previous_run(run=run)
    # The tests the text matches, read once for the page's sections and counts.
    matches = run_selectors.search_matches(run=run, search=search)
    try:
        page = run_selectors.run_results_page(
            run=run,
            outcome=outcome,
            search=matches,
            only=only,
            previous=previous,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            per_page=RESULTS_PER_PAGE,
        )
    except run_selectors.BadFilter as exc:
        return bad_request(request, str(exc))
    flags, trivial = reality.run_flags(run=run)
    groups = run_selectors.signature_groups(run=run)
    failing = [r.case for r in page.object_list if r.outcome in ("failed", "error")]
    return render(
        request,
        "runs/run_detail.html",
        {
            "run": run,
            "page": page,
            "results": page.object_list,
            "page_query": query_without(request, "page", "after", "before"),
            "outcome": outcome,
            "outcomes": OUTCOMES,
            "search": search,
            "only": only,
            "only_counts": run_selectors.only_counts(
                run=run, outcome=outcome, search=matches, previous=previous
            ),
            "only_definition": run_selectors.ONLY_DEFINITION,
            "query_without_only": query_without(request, "only", "page", "after", "before"),
            "comparison": run_selectors.run_comparison(run=run, previous=previous),
            "comparison_definition": run_selectors.COMPARISON_DEFINITION,
            "groups": groups,
            "triage_histories": triage_histories(signature_ids=[g["signature_id"] for g in groups]),
            "owners": owners.owners_of_cases(suite_id=run.suite_id, cases=failing),
            "artifacts": list(run.artifacts.order_by("name").values("pk", "name", "size")),
            "flags": flags,
            "trivial": trivial,
            "rate_definition": RATE_DEFINITION,
            # Failure groups exist exactly when some test failed: something to analyze.
            "can_analyze": bool(groups),
        },
    )


def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the run page; when the run has finished, tells htmx to reload the page."""
    run = _run(pk)
    response = render(request, "runs/_run_progress.html", {"run": run})
    if not run.is_active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


def artifact_download(request: HttpRequest, pk: int, artifact_pk: int) -> FileResponse:
    artifact = get_object_or_404(TestRunArtifact, pk=artifact_pk, run_id=pk)
    try:
        handle = artifact.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(f"The file of artifact “{artifact.name}” is no longer stored.") from exc
    return FileResponse(handle, as_attachment=True, filename=artifact.name)
