"""Five-whys analyses: start, edit, lists."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from runs.models import Analysis


def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = get_object_or_404(Analysis.objects.select_related("service"), pk=pk)
    return render(request, "runs/analysis_detail.html", {"analysis": analysis})
