"""Compare two runs (?runs=A,B) or two revisions (?revisions=A,B) side by side."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from runs.models import Revision, TestRun
from runs.params import whole_number
from runs.selectors.compare import Sides, compare_diff, latest_runs_of, run_counts, sides_of
from runs.selectors.compare_picker import compare_picker
from runs.selectors.rates import RATE_DEFINITION
from runs.views.paging import BadInput, bad_request, paginate, query_without

DIFF_PER_PAGE = 50
USAGE = "Give two runs (?runs=12,15) or two revisions (?revisions=3,4) to compare."


def _joined(request: HttpRequest, param: str) -> str | None:
    """The param's value; given twice (the picker's two selects), both joined by a comma."""
    values = request.GET.getlist(param)
    if not values:
        return None
    if len(values) > 1 and not all(v.strip() for v in values):
        raise BadInput("Pick one for A and one for B, then compare.", name=param)
    return ",".join(values)


def _two_ids(raw: str, noun: str) -> tuple[int, int]:
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) != 2:
        raise BadInput(f"Give exactly two {noun} ids separated by a comma, not “{raw}”.")
    ids = []
    for part in parts:
        number = whole_number(part)
        if number is None:
            raise BadInput(f"“{part}” is not a {noun} id; ids are whole numbers.")
        ids.append(number)
    a, b = ids
    if a == b:
        raise BadInput(f"Both sides are {noun} {a}; pick two different {noun}s.")
    return a, b


def _sides(request: HttpRequest) -> tuple[str, TestRun | Revision, TestRun | Revision, Sides]:
    runs_raw, revisions_raw = _joined(request, "runs"), _joined(request, "revisions")
    if (runs_raw is None) == (revisions_raw is None):
        raise BadInput(USAGE)
    if runs_raw is not None:
        a, b = _two_ids(runs_raw, "run")
        found = TestRun.objects.select_related("suite", "revision").in_bulk([a, b])
        missing = [str(i) for i in (a, b) if i not in found]
        if missing:
            raise BadInput(f"There is no run #{', #'.join(missing)}.")
        return "runs", found[a], found[b], Sides(a=[a], b=[b])
    a, b = _two_ids(revisions_raw or "", "revision")
    revisions = Revision.objects.select_related("service").in_bulk([a, b])
    missing = [str(i) for i in (a, b) if i not in revisions]
    if missing:
        raise BadInput(f"There is no revision {', '.join(missing)}.")
    sides = sides_of(latest_runs_of(revision=revisions[a]), latest_runs_of(revision=revisions[b]))
    return "revisions", revisions[a], revisions[b], sides


def compare(request: HttpRequest) -> HttpResponse:
    try:
        kind, a, b, sides = _sides(request)
        diff = compare_diff(sides)
        page = paginate(request, diff.changes, per_page=DIFF_PER_PAGE)
    except BadInput as exc:
        return bad_request(request, str(exc))
    return render(
        request,
        "runs/compare.html",
        {
            "kind": kind,
            "a": a,
            "b": b,
            "a_counts": run_counts(TestRun.objects.filter(pk__in=sides.a)),
            "b_counts": run_counts(TestRun.objects.filter(pk__in=sides.b)),
            "change_counts": diff.counts(),
            "one_sided": diff.one_sided,
            "page": page,
            "rows": page.object_list,
            "page_query": query_without(request, "page"),
            "rate_definition": RATE_DEFINITION,
            "picker": compare_picker(
                service_id=a.service_id,
                runs=(a.pk, b.pk) if kind == "runs" else None,
                revisions=(a.pk, b.pk) if kind == "revisions" else None,
            ),
        },
    )
