"""Search: the results page, the header box's typeahead partial, and a failure's latest result."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from runs.models import FailureSignature
from runs.params import BadParam, choice_param, int_param
from runs.selectors import search
from runs.views.paging import bad_request

HITS_PER_KIND = 10
HITS_PER_PAGE = 50
TYPEAHEAD_HITS = 3
# The typeahead shows no counts: it stops looking sooner (the results page counts to 1,000).
TYPEAHEAD_CAP = 100
# Deep pages of a kind are offsets; past this, a narrower query finds the row sooner.
MAX_PAGE = search.COUNT_CAP // HITS_PER_PAGE


def search_page(request: HttpRequest) -> HttpResponse:
    try:
        q = search.search_query_clean(request.GET.get("q", ""))
        kind = choice_param(request.GET, "kind", search.KINDS)
        page = int_param(request.GET, "page", what="a page number", default=1, maximum=MAX_PAGE)
    except BadParam as exc:
        return bad_request(request, str(exc))
    assert page is not None
    context: dict[str, object] = {
        "q": request.GET.get("q", "").strip(),
        "search_q": q or "",
        "query": q,
        "kind": kind,
        "min_length": search.MIN_LENGTH,
        "max_length": search.MAX_LENGTH,
    }
    if q is not None and kind:
        group = search.search_group(
            q=q, kind=kind, limit=HITS_PER_PAGE + 1, offset=(page - 1) * HITS_PER_PAGE
        )
        context.update(
            groups=[group],
            hits=group.hits[:HITS_PER_PAGE],
            page=page,
            has_next=len(group.hits) > HITS_PER_PAGE and page < MAX_PAGE,
            first=(page - 1) * HITS_PER_PAGE + 1,
        )
    elif q is not None:
        context["groups"] = search.search_all(q=q, limit=HITS_PER_KIND)
        context["per_kind"] = HITS_PER_KIND
    return render(request, "runs/search.html", context)


def search_typeahead(request: HttpRequest) -> HttpResponse:
    try:
        q = search.search_query_clean(request.GET.get("q", ""))
    except BadParam as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    groups = [] if q is None else search.search_all(q=q, limit=TYPEAHEAD_HITS, cap=TYPEAHEAD_CAP)
    return render(
        request,
        "runs/_search_hits.html",
        {
            "q": q,
            "groups": [g for g in groups if g.hits],
            "unsearched": [g.label for g in groups if not g.searched],
        },
    )


def search_failure(request: HttpRequest, pk: int) -> HttpResponse:
    """The newest result with this failure signature, on its run's page; its suite if none."""
    signature = get_object_or_404(FailureSignature, pk=pk)
    latest = search.signature_latest_result(signature_id=signature.pk)
    if latest is None:
        return redirect(signature.suite.get_absolute_url())
    run_id, test_name = latest
    return redirect(f"{reverse('run-detail', args=[run_id])}?{urlencode({'q': test_name})}")
