"""The triage form on the run page and the analysis page: Operators mark, bad input is a 400
with a sentence, and a later run of the same failure shows the marking."""

from __future__ import annotations

import pytest

from runs.models import TriageChange
from tests.triage.conftest import failing_run

pytestmark = pytest.mark.django_db


def test_an_operator_marks_a_signature_from_the_run_page(login, operator, run, signature):
    client = login(operator)
    page = client.get(run.get_absolute_url()).content.decode()
    assert f'action="/signatures/{signature.pk}/triage"' in page

    response = client.post(
        f"/signatures/{signature.pk}/triage",
        {"category": "environment", "analysis": "", "comment": "dns", "next": f"/runs/{run.pk}/"},
    )

    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    signature.refresh_from_db()
    assert (signature.triage, signature.triage_comment) == ("environment", "dns")


def test_a_later_run_shows_the_known_issue_and_its_analysis(
    login, operator, suite, signature, analysis
):
    client = login(operator)
    client.post(
        f"/signatures/{signature.pk}/triage", {"category": "known_issue", "analysis": analysis.pk}
    )

    later = failing_run(suite, time="7.5")
    page = client.get(later.get_absolute_url()).content.decode()

    assert 'data-triage="known_issue">Known issue</span>' in page
    assert f'href="/analyses/{analysis.pk}/">#{analysis.pk} {analysis.title}</a>' in page
    assert "Untriaged → Known issue" in page  # the history under the form


def test_the_form_drops_a_chosen_analysis_for_other_categories(
    login, operator, signature, analysis
):
    login(operator).post(
        f"/signatures/{signature.pk}/triage", {"category": "test_bug", "analysis": analysis.pk}
    )

    signature.refresh_from_db()
    assert (signature.triage, signature.triage_analysis) == ("test_bug", None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"category": "wontfix"}, "Select a valid choice"),
        ({"category": "known_issue", "analysis": ""}, "A known issue names the analysis"),
        ({"category": "known_issue", "analysis": "foreign"}, "is about service billing"),
    ],
)
def test_bad_input_on_the_form_is_a_400_with_a_sentence(
    login, operator, signature, foreign_analysis, data, message
):
    data = {k: foreign_analysis.pk if v == "foreign" else v for k, v in data.items()}

    response = login(operator).post(f"/signatures/{signature.pk}/triage", data)

    assert response.status_code == 400
    assert "The triage was not saved" in response.content.decode()
    assert message in response.content.decode()
    assert not TriageChange.objects.exists()


def test_a_viewer_sees_the_category_but_no_form_and_may_not_post(login, viewer, run, signature):
    client = login(viewer)

    page = client.get(run.get_absolute_url()).content.decode()
    refused = client.post(f"/signatures/{signature.pk}/triage", {"category": "test_bug"})

    assert 'data-triage="untriaged"' in page
    assert "triage-form" not in page
    assert refused.status_code == 403


def test_the_analysis_page_shows_and_triages_its_signature(login, operator, signature, analysis):
    analysis.signature = signature
    analysis.save()
    client = login(operator)
    client.post(
        f"/signatures/{signature.pk}/triage", {"category": "known_issue", "analysis": analysis.pk}
    )

    page = client.get(analysis.get_absolute_url()).content.decode()

    assert 'id="analysis-signature"' in page
    assert 'data-triage="known_issue"' in page
    assert f'action="/signatures/{signature.pk}/triage"' in page
    assert 'id="known-issue-of"' in page
