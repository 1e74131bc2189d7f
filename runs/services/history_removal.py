"""Removing runs, tests or results by hand (the admin's delete): the read models that counted
them are recomputed for each suite touched, in the same transaction, so no page keeps a figure
of deleted history. Retention deletes in bulk and repairs more cheaply (runs.services.retention);
a suite or service deleted takes its read models with it (cascade)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from runs import page_cache
from runs.models import Suite, TestCase, TestResult, TestRun
from runs.reports_seam import tallies_rebuild
from runs.services.read_models import case_latest_rebuild, flake_window_rebuild

_SUITE_OF = {TestRun: "suite_id", TestCase: "suite_id", TestResult: "run__suite_id"}


def history_remove(*, rows: QuerySet) -> int:
    """Delete `rows` (runs, tests or results) with what cascades from them; then, for each
    suite they belonged to, rebuild its flaky window and tree, its tests' latest results (and
    those not clean passes) and the summary's tallies, and drop its cached pages. Returns the
    rows deleted, cascades included. All or nothing."""
    with transaction.atomic():
        suite_ids = set(rows.values_list(_SUITE_OF[rows.model], flat=True).distinct())
        deleted, _ = rows.delete()
        services = dict(Suite.objects.filter(pk__in=suite_ids).values_list("pk", "service_id"))
        for suite_id, service_id in sorted(services.items()):
            flake_window_rebuild(suite_id=suite_id)
            case_latest_rebuild(suite_id=suite_id)
            tallies_rebuild(suite_id=suite_id)
            page_cache.generation_bump(service_id=service_id)
    return deleted
