"""The analyze step received twice (the outbox may send a message again) does its work once."""

from __future__ import annotations

import pytest

from analyses.models import Analysis, AnalysisEvent
from analyses.services.analyses import analyses_verify_for_run
from analyses.services.analyze import run_analyze_execute
from runs.models import TestRun
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def test_a_second_message_for_the_same_run_changes_nothing(history):
    run = history.run({0: "failed", 1: "error"}, messages={1: "refused"})

    run_analyze_execute(run_id=run.pk)
    events = AnalysisEvent.objects.count()
    run_analyze_execute(run_id=run.pk)

    assert Analysis.objects.filter(run=run).count() == 2
    assert AnalysisEvent.objects.count() == events
    assert TestRun.objects.get(pk=run.pk).analyzed_at is not None


def test_a_late_duplicate_does_not_reopen_an_analysis_a_later_run_verified(history):
    failing = history.run({0: "failed"})
    run_analyze_execute(run_id=failing.pk)
    analysis = Analysis.objects.get()
    Analysis.objects.filter(pk=analysis.pk).update(status=Analysis.Status.DONE)
    green = history.run({})
    run_analyze_execute(run_id=green.pk)
    assert Analysis.objects.get().status == "verified"

    # The first run's message arrives again, an hour later (sent twice by the outbox).
    run_analyze_execute(run_id=failing.pk)

    analysis.refresh_from_db()
    assert (analysis.status, analysis.verified_by_run_id) == ("verified", green.pk)
    assert Analysis.objects.count() == 1


def test_a_failed_analyze_step_can_run_again(history, monkeypatch):
    run = history.run({0: "failed"})

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("analyses.services.analyze.analyses_verify_for_run", broken)
    with pytest.raises(RuntimeError):
        run_analyze_execute(run_id=run.pk)
    assert TestRun.objects.get(pk=run.pk).analyzed_at is None
    assert not Analysis.objects.exists()  # the drafts rolled back with the claim

    monkeypatch.setattr(
        "analyses.services.analyze.analyses_verify_for_run", analyses_verify_for_run
    )
    run_analyze_execute(run_id=run.pk)
    assert Analysis.objects.filter(run=run).count() == 1


def test_an_unfinished_run_is_not_claimed(history):
    run = RunFactory(suite=history.suite, status="running")

    run_analyze_execute(run_id=run.pk)

    assert TestRun.objects.get(pk=run.pk).analyzed_at is None
    assert not Analysis.objects.exists()
