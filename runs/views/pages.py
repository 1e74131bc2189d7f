"""Read-only pages: service, revision, suite, run, test."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from runs.models import Revision, Service, Suite, TestCase, TestRun


def service_detail(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("current_revision"), name=name)
    return render(
        request,
        "runs/service_detail.html",
        {
            "service": service,
            "suites": service.suites.all(),
            "revisions": service.revisions.all()[:20],
            "runs": service.runs.select_related("suite", "revision")[:20],
            "deploys": service.deploys.select_related("revision")[:10],
            "active": service.deploys.filter(status__in=("queued", "running")).first(),
        },
    )


def revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(Revision.objects.select_related("service"), pk=pk)
    return render(
        request,
        "runs/revision_detail.html",
        {"revision": revision, "runs": revision.runs.select_related("suite")[:50]},
    )


def suite_detail(request: HttpRequest, pk: int) -> HttpResponse:
    suite = get_object_or_404(Suite.objects.select_related("service"), pk=pk)
    return render(
        request,
        "runs/suite_detail.html",
        {"suite": suite, "runs": suite.runs.select_related("revision")[:50]},
    )


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TestRun.objects.select_related("suite", "service", "revision"), pk=pk)
    results = run.results.select_related("case").order_by("outcome", "case__key")[:500]
    return render(request, "runs/run_detail.html", {"run": run, "results": results})


def test_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(TestCase.objects.select_related("suite__service"), pk=pk)
    history = case.results.select_related("run__revision").order_by("-run")[:100]
    return render(request, "runs/test_detail.html", {"case": case, "history": history})
