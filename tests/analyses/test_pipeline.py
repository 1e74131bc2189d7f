"""The analyze step: drafts for new signatures, verification on later revisions, reopening."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from analyses.models import Analysis
from analyses.services.analyses import analyses_verify_for_run, analysis_drafts_for_run

pytestmark = pytest.mark.django_db


def _done(analysis: Analysis) -> Analysis:
    Analysis.objects.filter(pk=analysis.pk).update(status=Analysis.Status.DONE)
    analysis.refresh_from_db()
    return analysis


def test_it_drafts_one_analysis_per_new_signature(history):
    run = history.run({0: "failed", 1: "failed", 2: "error"}, messages={2: "refused"})

    drafts = analysis_drafts_for_run(run=run)

    assert len(drafts) == 2
    by_signature = {a.signature.normalized: a for a in drafts}
    assert set(by_signature["boom"].cases.all()) == {history.cases[0], history.cases[1]}
    assert set(by_signature["refused"].cases.all()) == {history.cases[2]}
    assert all(a.status == "draft" and a.created_by is None for a in drafts)
    assert (
        by_signature["boom"].events.get().what == f"Drafted by the analyze step for run #{run.pk}"
    )


def test_it_never_drafts_twice_for_a_signature_with_an_open_analysis(history):
    run = history.run({0: "failed"})
    analysis_drafts_for_run(run=run)

    again = analysis_drafts_for_run(run=run)
    later = analysis_drafts_for_run(run=history.run({0: "failed"}))

    assert again == [] and later == []
    assert Analysis.objects.count() == 1


def test_a_done_analysis_still_blocks_a_new_draft(history):
    (draft,) = analysis_drafts_for_run(run=history.run({0: "failed"}))
    _done(draft)

    assert analysis_drafts_for_run(run=history.run({0: "failed"})) == []


def test_it_verifies_a_done_analysis_when_its_tests_pass_on_a_later_revision(history):
    failing = history.run({0: "failed", 1: "failed"})
    analysis = _done(analysis_drafts_for_run(run=failing)[0])
    green = history.run({})

    analyses_verify_for_run(run=green)

    analysis.refresh_from_db()
    assert analysis.status == "verified"
    assert analysis.verified_by_run == green
    assert analysis.verified_at is not None
    assert analysis.events.first().what.startswith(
        f"Verified: every linked test passed in run #{green.pk}"
    )


def test_it_does_not_verify_on_the_same_revision(history):
    failing = history.run({0: "failed"})
    analysis = _done(analysis_drafts_for_run(run=failing)[0])

    analyses_verify_for_run(run=history.run({}, revision=failing.revision))

    analysis.refresh_from_db()
    assert analysis.status == "done"


def test_it_does_not_verify_while_one_linked_test_still_fails_or_did_not_run(history):
    failing = history.run({0: "failed", 1: "failed"})
    analysis = _done(analysis_drafts_for_run(run=failing)[0])
    still = history.run({1: "failed"}, message="other")
    skipped = history.run({1: "skipped"})

    analyses_verify_for_run(run=still)
    analyses_verify_for_run(run=skipped)

    analysis.refresh_from_db()
    assert analysis.status == "done"


def test_it_does_not_verify_a_draft_or_an_analysis_in_review(history):
    draft = analysis_drafts_for_run(run=history.run({0: "failed"}))[0]

    analyses_verify_for_run(run=history.run({}))

    draft.refresh_from_db()
    assert draft.status == "draft"


def test_it_reopens_a_verified_analysis_whose_test_fails_again(history):
    analysis = _done(analysis_drafts_for_run(run=history.run({0: "failed"}))[0])
    analyses_verify_for_run(run=history.run({}))
    again = history.run({0: "failed"}, message="new cause")

    analyses_verify_for_run(run=again)

    analysis.refresh_from_db()
    assert analysis.status == "in_review"
    assert analysis.reopened_at is not None
    assert analysis.reopened_reason == (
        f"tests/chat.py::test_0 failed again in run #{again.pk} on revision {again.revision.name}."
    )
    assert analysis.verified_by_run is None
    whats = list(analysis.events.values_list("what", flat=True))
    assert whats[0].startswith("Reopened:") and whats[1].startswith("Verified:")


def test_a_failure_on_an_older_revision_does_not_reopen(history):
    first = history.run({0: "failed"})
    analysis = _done(analysis_drafts_for_run(run=first)[0])
    analyses_verify_for_run(run=history.run({}))

    # A rollback to the revision that failed: the fix is not there, nothing to learn.
    analyses_verify_for_run(run=history.run({0: "failed"}, revision=first.revision))

    analysis.refresh_from_db()
    assert analysis.status == "verified"


def test_a_recurring_signature_reopens_its_verified_analysis_instead_of_a_new_draft(history):
    analysis = _done(analysis_drafts_for_run(run=history.run({0: "failed"}))[0])
    analyses_verify_for_run(run=history.run({}))
    again = history.run({0: "failed"})

    # The pipeline's order: drafts first, then verification.
    assert analysis_drafts_for_run(run=again) == []
    analyses_verify_for_run(run=again)

    analysis.refresh_from_db()
    assert analysis.status == "in_review"
    assert Analysis.objects.count() == 1
    assert "seen again in run" in analysis.reopened_reason


def test_it_verifies_again_after_a_reopened_analysis_is_done(history):
    analysis = _done(analysis_drafts_for_run(run=history.run({0: "failed"}))[0])
    analyses_verify_for_run(run=history.run({}))
    analyses_verify_for_run(run=history.run({0: "failed"}))
    _done(analysis)
    final = history.run({})

    analyses_verify_for_run(run=final)

    analysis.refresh_from_db()
    assert (analysis.status, analysis.verified_by_run) == ("verified", final)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two writers at once need a server database; SQLite serializes writers by design",
)
def test_two_concurrent_analyze_steps_open_one_draft_per_signature(history):
    run = history.run({0: "failed", 1: "error"}, messages={1: "refused"})
    barrier = threading.Barrier(2)
    created: list[int] = []
    errors: list[BaseException] = []

    def analyze():
        try:
            barrier.wait()
            created.append(len(analysis_drafts_for_run(run=run)))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=analyze) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(created) == 2
    assert Analysis.objects.count() == 2
    assert Analysis.objects.values("signature").distinct().count() == 2
