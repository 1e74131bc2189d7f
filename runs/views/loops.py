"""Loops: deploy and test each new build until green."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from runs.models import Loop


def loop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    loop = get_object_or_404(Loop.objects.select_related("service", "suite"), pk=pk)
    iterations = loop.iterations.select_related("build", "deploy", "run")
    return render(request, "runs/loop_detail.html", {"loop": loop, "iterations": iterations})
