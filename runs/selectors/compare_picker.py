"""Choices for the compare picker: a service's recent runs per suite, and its revisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from runs.models import Revision, TestRun

RUNS_PER_SUITE = 20
REVISIONS = 50


@dataclass
class Picker:
    """What the two pairs of selects offer and which options they start on."""

    suites: list[tuple[str, list[TestRun]]] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    run_a: int | None = None
    run_b: int | None = None
    revision_a: int | None = None
    revision_b: int | None = None


def compare_picker(
    *,
    service_id: int,
    runs: tuple[int, int] | None = None,
    revisions: tuple[int, int] | None = None,
) -> Picker:
    """The last RUNS_PER_SUITE runs of each suite of the service (grouped by suite name) and its
    last REVISIONS revisions, newest first; `runs` or `revisions` chosen on the A and B sides
    are listed even when older (they may belong to another service). Two queries, three or
    four when a chosen run or revision is older."""
    chosen_runs = runs or ()
    recent: list[Any] = list(
        TestRun.objects.filter(service_id=service_id)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("suite_id")],
                order_by=[F("created_at").desc(), F("pk").desc()],
            )
        )
        .filter(position__lte=RUNS_PER_SUITE)
        .select_related("revision")
        .annotate(suite_name=F("suite__name"), service_name=F("service__name"))
    )
    seen = {run.pk for run in recent}
    if any(pk not in seen for pk in chosen_runs):
        recent += (
            TestRun.objects.filter(pk__in=chosen_runs)
            .exclude(pk__in=seen)
            .select_related("revision")
            .annotate(suite_name=F("suite__name"), service_name=F("service__name"))
        )
    by_suite: dict[str, list[TestRun]] = {}
    for run in sorted(recent, key=lambda r: (r.suite_name, -r.created_at.timestamp(), -r.pk)):
        label = (
            run.suite_name
            if run.service_id == service_id
            else f"{run.service_name} / {run.suite_name}"
        )
        by_suite.setdefault(label, []).append(run)
    listed = list(
        Revision.objects.filter(service_id=service_id).order_by("-created_at", "-pk")[:REVISIONS]
    )
    chosen_revisions = revisions or ()
    missing = [pk for pk in chosen_revisions if pk not in {r.pk for r in listed}]
    if missing:
        listed += Revision.objects.filter(pk__in=missing)
    return Picker(
        suites=list(by_suite.items()),
        revisions=listed,
        run_a=runs[0] if runs else None,
        run_b=runs[1] if runs else None,
        revision_a=revisions[0] if revisions else None,
        revision_b=revisions[1] if revisions else None,
    )
