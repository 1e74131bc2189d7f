"""The manager's summary and its exports, the evidence behind each figure, capabilities, and
status pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from reports import exports, svg
from reports.forms import CapabilityForm
from reports.models import Capability, DeliveryBand
from reports.scope import Scope, scope_from_query
from reports.selectors.capabilities import capability_status, mapped_tests
from reports.selectors.evidence import evidence_rows
from reports.selectors.status_pages import status_page_data, status_page_for
from reports.services.capability_cases import capability_save
from reports.summary import summary_build
from runs.models import Service
from runs.params import BadParam, choice_param, int_param
from runs.time_range import request_time_range

EXPORT = "runs.export_report"
# The tests a capability page lists at most.
CAPABILITY_TESTS = 500


def _scope_or_error(request: HttpRequest) -> Scope | HttpResponse:
    try:
        return scope_from_query(request.GET, span=request_time_range(request))
    except BadParam as exc:
        return render(
            request,
            "reports/scope_error.html",
            {"error": str(exc), "services": Service.objects.all()},
            status=400,
        )


def _context(request: HttpRequest, scope: Scope) -> dict:
    summary = summary_build(scope=scope)
    charts = {
        "pass_rate": mark_safe(svg.line_chart("Pass rate per day", summary.pass_rate_daily)),  # noqa: S308 - built from escaped text
        "deploys": mark_safe(  # noqa: S308 - built from escaped text
            svg.deploys_chart(f"Deploys per {summary.deploys.bucket}", summary.deploys)
        ),
    }
    return {"summary": summary, "scope": scope, "charts": charts, "services": Service.objects.all()}


def _filename(scope: Scope, ext: str) -> str:
    return f"stageloop-summary-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.{ext}"


@permission_required(EXPORT, raise_exception=True)
def summary(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_error(request)
    if isinstance(scope, HttpResponse):
        return scope
    return render(request, "reports/summary.html", _context(request, scope))


def _streamed_export(request: HttpRequest, lines, content_type: str, ext: str) -> HttpResponseBase:
    """Stream one text export of the summary (Markdown or CSV) as a download."""
    scope = _scope_or_error(request)
    if isinstance(scope, HttpResponse):
        return scope
    base = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        lines(summary_build(scope=scope), base_url=base), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(scope, ext)}"'
    return response


@permission_required(EXPORT, raise_exception=True)
def summary_markdown(request: HttpRequest) -> HttpResponseBase:
    return _streamed_export(request, exports.markdown_lines, "text/markdown; charset=utf-8", "md")


@permission_required(EXPORT, raise_exception=True)
def summary_csv(request: HttpRequest) -> HttpResponseBase:
    return _streamed_export(request, exports.csv_lines, "text/csv; charset=utf-8", "csv")


@permission_required(EXPORT, raise_exception=True)
def summary_pdf(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_error(request)
    if isinstance(scope, HttpResponse):
        return scope
    html = render_to_string("reports/summary_print.html", _context(request, scope), request=request)
    pdf = exports.pdf_bytes(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(scope, "pdf")}"'
    return response


@permission_required(EXPORT, raise_exception=True)
def evidence(request: HttpRequest, kind: str) -> HttpResponse:
    scope = _scope_or_error(request)
    if isinstance(scope, HttpResponse):
        return scope
    status = choice_param(request.GET, "status", ["failing"])
    suite_id = int_param(request.GET, "suite", what="a suite id")
    failed = choice_param(request.GET, "failed", ["1"])
    # The filters the page links keep (scope.query leaves out the empty ones).
    filters = {"status": status, "suite": suite_id, "failed": failed}
    try:
        page = evidence_rows(
            kind=kind,
            scope=scope,
            failing=status == "failing",
            suite_id=suite_id,
            failed=failed == "1",
            after=request.GET.get("after", "").strip(),
            page=int_param(request.GET, "page", what="a page number", default=1, maximum=100_000)
            or 1,
        )
    except BadParam as exc:
        return render(
            request,
            "reports/scope_error.html",
            {"error": str(exc), "services": Service.objects.all()},
            status=400,
        )
    if page is None:
        raise Http404("No such evidence.")
    return render(
        request,
        "reports/evidence.html",
        {
            "kind": kind,
            "page": page,
            "rows": page.rows,
            "scope": scope,
            "next_query": scope.query(**filters, **page.next) if page.next else "",
            "first_query": scope.query(**filters),
        },
    )


@permission_required(EXPORT, raise_exception=True)
def capability_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reports/capabilities.html",
        {
            "capabilities": Capability.objects.prefetch_related("services"),
            "bands": DeliveryBand.objects.all(),
        },
    )


@permission_required(EXPORT, raise_exception=True)
def capability_detail(request: HttpRequest, pk: int) -> HttpResponse:
    capability = get_object_or_404(Capability, pk=pk)
    scope = _scope_or_error(request)
    if isinstance(scope, HttpResponse):
        return scope
    cases = mapped_tests(capability, scope, limit=CAPABILITY_TESTS)
    return render(
        request,
        "reports/capability_detail.html",
        {
            "capability": capability,
            "status": capability_status(capability, scope),
            "cases": cases,
            "scope": scope,
        },
    )


@permission_required(EXPORT, raise_exception=True)
def capability_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    capability = get_object_or_404(Capability, pk=pk) if pk else None
    form = CapabilityForm(request.POST or None, instance=capability)
    if request.method == "POST":
        if form.is_valid():
            # Its tests are mapped again when its patterns changed (services filter on read).
            capability = capability_save(capability=form.save(commit=False))
            form.save_m2m()
            messages.success(request, f"Capability “{capability.name}” saved.")
            return redirect(capability)
        return render(request, "reports/capability_form.html", {"form": form}, status=400)
    return render(request, "reports/capability_form.html", {"form": form})


@login_not_required
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A status page: anyone may open a public one; a private one needs a signed-in user.
    Anything else is a 404 for everyone, so an anonymous visitor cannot tell a private page
    from none."""
    page = status_page_for(slug=slug, authenticated=request.user.is_authenticated)
    if page is None:
        raise Http404("No such status page.")
    data = status_page_data(page=page, now=timezone.now())
    return render(request, "reports/status_page.html", {"page": page, "data": data})
