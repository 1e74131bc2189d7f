"""seed_history writes a consistent, realistic history, all or nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q, Sum

from runs.models import Deploy, Revision, Service, Suite, TestResult, TestRun

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_history", *args, stdout=out)
    return out.getvalue()


def test_it_writes_runs_whose_counts_match_their_results():
    output = seed("--runs", "60", "--tests", "50", "--service", "hist", "--suite", "e2e")

    suite = Suite.objects.get(service__name="hist", name="e2e")
    per_run = (
        TestRun.objects.filter(suite=suite)
        .annotate(
            n=Count("results"),
            p=Count("results", filter=Q(results__outcome="passed")),
            f=Count("results", filter=Q(results__outcome="failed")),
            e=Count("results", filter=Q(results__outcome="error")),
            s=Count("results", filter=Q(results__outcome="skipped")),
        )
        .values_list("total", "n", "passed", "p", "failed", "f", "errors", "e", "skipped", "s")
    )
    assert "Seeded hist / e2e: 60 runs, 3000 results" in output
    assert len(per_run) == 60
    for t, n, passed, p, failed, f, errors, e, skipped, s in per_run:
        assert (t, passed, failed, errors, skipped) == (n, p, f, e, s)


def test_it_makes_revisions_with_deploys_every_20_runs_or_so_in_time_order():
    seed("--runs", "100", "--tests", "10", "--service", "hist")

    revisions = Revision.objects.filter(service__name="hist").count()
    deploys = Deploy.objects.filter(service__name="hist", status="succeeded").count()
    times = list(TestRun.objects.filter(service__name="hist").values_list("created_at", "pk"))
    assert 4 <= revisions <= 7
    assert deploys == revisions
    assert [pk for _, pk in sorted(times)] == sorted(pk for _, pk in times)
    current = Service.objects.get(name="hist").current_revision
    assert (current.status, current.traffic_percent) == ("ready", 100)


def test_it_seeds_flaky_slow_and_trivial_tests_and_failure_clusters():
    seed("--runs", "80", "--tests", "400", "--service", "hist")

    results = TestResult.objects.filter(run__service__name="hist")
    assert results.filter(flaky=True).exists()
    assert results.filter(duration__gt=2).exists()
    assert results.filter(outcome="passed", duration__lt=0.001).exists()
    signatures = results.exclude(signature=None).values("signature").annotate(n=Count("pk"))
    assert max(row["n"] for row in signatures) >= 12
    assert results.aggregate(s=Sum("attempts"))["s"] > results.count()


def test_it_refuses_to_seed_a_suite_that_already_has_runs():
    seed("--runs", "2", "--tests", "3", "--service", "hist")

    with pytest.raises(CommandError, match="already has runs; choose another --suite"):
        seed("--runs", "2", "--tests", "3", "--service", "hist")
    assert TestRun.objects.filter(service__name="hist").count() == 2


def test_it_refuses_nonsense_sizes():
    with pytest.raises(CommandError, match="must be at least 1"):
        seed("--runs", "0", "--tests", "3")
