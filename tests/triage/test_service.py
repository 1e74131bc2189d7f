"""Triage of a failure signature: set by a person, remembered on the signature, with history."""

from __future__ import annotations

import pytest
from django.db.models import RestrictedError

from runs.models import FailureSignature, TriageChange
from runs.selectors.runs import signature_groups
from runs.selectors.triage import triage_histories, triage_history
from runs.services.triage import TriageError, signature_triage_set
from tests.triage.conftest import failing_run

pytestmark = pytest.mark.django_db


def test_it_marks_a_signature_and_records_who_when_and_why(signature, operator):
    signature_triage_set(
        signature=signature, triage="product_bug", comment=" the gateway ", user=operator
    )

    signature.refresh_from_db()
    assert signature.triage == "product_bug"
    assert signature.triage_by == operator
    assert signature.triage_at is not None
    assert signature.triage_comment == "the gateway"
    [change] = triage_history(signature_id=signature.pk)
    assert (change.previous, change.triage, change.by) == ("untriaged", "product_bug", operator)


def test_a_new_signature_is_untriaged(signature):
    assert signature.triage == "untriaged"
    assert triage_history(signature_id=signature.pk) == []


def test_a_known_issue_links_an_analysis_of_its_service(signature, analysis, operator):
    signature_triage_set(
        signature=signature, triage="known_issue", analysis_id=analysis.pk, user=operator
    )

    assert signature.triage_analysis == analysis
    assert list(analysis.known_issue_signatures.all()) == [signature]


def test_the_marking_follows_the_signature_to_a_later_runs_failure(suite, signature, analysis):
    signature_triage_set(signature=signature, triage="known_issue", analysis_id=analysis.pk)

    later = failing_run(suite, time="9.25")

    [group] = signature_groups(run=later)
    assert group["signature_id"] == signature.pk
    assert group["signature__triage"] == "known_issue"
    assert group["signature__triage_analysis_id"] == analysis.pk
    assert group["signature__triage_analysis__title"] == analysis.title


def test_the_history_lists_every_change_newest_first(signature, analysis, operator, viewer):
    signature_triage_set(signature=signature, triage="test_bug", user=operator)
    signature_triage_set(signature=signature, triage="environment", comment="dns", user=viewer)
    signature_triage_set(signature=signature, triage="known_issue", analysis_id=analysis.pk)
    signature_triage_set(signature=signature, triage="untriaged")

    history = triage_history(signature_id=signature.pk)
    assert [(c.previous, c.triage) for c in history] == [
        ("known_issue", "untriaged"),
        ("environment", "known_issue"),
        ("test_bug", "environment"),
        ("untriaged", "test_bug"),
    ]
    assert history[1].analysis_id == analysis.pk
    assert history[2].comment == "dns" and history[2].by == viewer
    signature.refresh_from_db()
    assert signature.triage_analysis_id is None
    assert [len(v) for v in triage_histories(signature_ids=[signature.pk], limit=2).values()] == [2]


@pytest.mark.parametrize(
    ("triage", "which", "message", "field"),
    [
        ("wontfix", None, "category must be one of untriaged, product_bug", "category"),
        ("known_issue", None, "A known issue names the analysis that explains it", "analysis"),
        ("known_issue", "missing", "There is no analysis #999999", "analysis"),
        ("known_issue", "foreign", "is about service billing, not shop", "analysis"),
        ("product_bug", "own", "Only a known issue links an analysis", "analysis"),
    ],
)
def test_bad_input_raises_a_sentence_and_writes_nothing(
    signature, analysis, foreign_analysis, triage, which, message, field
):
    analysis_id = {"own": analysis.pk, "foreign": foreign_analysis.pk, "missing": 999999}.get(which)

    with pytest.raises(TriageError, match=message) as raised:
        signature_triage_set(signature=signature, triage=triage, analysis_id=analysis_id)

    assert raised.value.field == field
    assert FailureSignature.objects.get(pk=signature.pk).triage == "untriaged"
    assert not TriageChange.objects.exists()


def test_a_comment_too_long_is_refused(signature):
    with pytest.raises(TriageError, match="keep it under 2,000"):
        signature_triage_set(signature=signature, triage="test_bug", comment="x" * 2001)

    assert not TriageChange.objects.exists()


def test_an_analysis_linked_by_a_known_issue_cannot_be_deleted_alone(signature, analysis):
    signature_triage_set(signature=signature, triage="known_issue", analysis_id=analysis.pk)

    with pytest.raises(RestrictedError):
        analysis.delete()


def test_deleting_the_service_deletes_its_triaged_signatures_and_analyses(
    suite, signature, analysis
):
    signature_triage_set(signature=signature, triage="known_issue", analysis_id=analysis.pk)

    suite.service.delete()

    assert not FailureSignature.objects.exists()
