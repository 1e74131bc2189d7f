"""A run's new failure signatures arrive as one piece of work: one draft per signature, shown and
counted as one group under their run until someone takes a draft forward."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analyses.models import Analysis
from analyses.selectors.analyses import (
    analysis_counts_by_service,
    analysis_list,
    analysis_status_counts,
)
from analyses.services.analyze import run_analyze_execute
from tests.analyses.conftest import History

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(db):
    """A run whose 11 failures have 11 different signatures, analyzed; and an analysis under
    review from an earlier run."""
    history = History(n_tests=12)
    earlier = history.run({11: "failed"}, message="database is down")
    run_analyze_execute(run_id=earlier.pk)
    Analysis.objects.filter(run=earlier).update(status=Analysis.Status.IN_REVIEW)
    run = history.run(
        dict.fromkeys(range(11), "failed"), messages={i: f"problem {i}" for i in range(11)}
    )
    run_analyze_execute(run_id=run.pk)
    return {"history": history, "run": run, "earlier": earlier}


def test_each_new_signature_still_gets_its_own_draft(batch):
    drafts = Analysis.objects.filter(run=batch["run"], status="draft")

    assert drafts.count() == 11
    assert drafts.values("signature").distinct().count() == 11


def test_the_analyses_list_shows_the_runs_drafts_as_one_group(batch, viewer, login):
    run = batch["run"]

    rows = list(analysis_list())
    page = login(viewer).get(reverse("analysis-list")).content.decode()

    assert len(rows) == 2  # the run's group and the analysis under review
    assert f"Run #{run.pk}: 11 new failure signatures, 11 drafts" in page
    assert page.count('class="draft-batch"') == 1
    for draft in Analysis.objects.filter(run=run):
        assert draft.get_absolute_url() in page


def test_the_run_page_shows_its_drafts_as_one_group(batch, viewer, login):
    run = batch["run"]

    page = login(viewer).get(reverse("run-detail", args=[run.pk])).content.decode()

    assert page.count(f"Run #{run.pk}: 11 new failure signatures, 11 drafts") == 1
    for draft in Analysis.objects.filter(run=run):
        assert draft.get_absolute_url() in page


def test_counts_of_open_work_count_the_run_once(batch):
    service = batch["history"].service

    assert analysis_counts_by_service()[service.pk]["open_analyses"] == 2
    assert analysis_status_counts()["draft"] == 1
    assert analysis_status_counts()["in_review"] == 1


def test_a_draft_taken_forward_leaves_the_group(batch, viewer, login):
    run = batch["run"]
    taken = Analysis.objects.filter(run=run).order_by("pk").first()
    Analysis.objects.filter(pk=taken.pk).update(status=Analysis.Status.IN_REVIEW)

    page = login(viewer).get(reverse("analysis-list")).content.decode()

    assert f"Run #{run.pk}: 10 new failure signatures, 10 drafts" in page
    assert len(list(analysis_list())) == 3
    assert analysis_counts_by_service()[batch["history"].service.pk]["open_analyses"] == 3
