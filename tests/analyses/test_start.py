"""Starting an analysis from a failing result, a failure signature or a run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analyses.models import Analysis

pytestmark = pytest.mark.django_db


def test_it_starts_an_analysis_from_a_failing_result_prefilled_and_linked(history, operator, login):
    history.run({})  # an earlier green run
    first = history.run({0: "failed", 1: "failed"})
    run = history.run({0: "failed", 1: "failed"})
    result = run.results.get(case=history.cases[0])

    response = login(operator).post(reverse("analyze-result", args=[result.pk]))

    analysis = Analysis.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analysis-edit", args=[analysis.pk])
    assert analysis.signature == result.signature
    assert analysis.run == run
    assert analysis.revision == run.revision
    assert analysis.service == history.service
    assert set(analysis.cases.all()) == {history.cases[0], history.cases[1]}
    assert analysis.created_by == operator
    assert "tests/chat.py::test_0 (failed)" in analysis.problem
    assert "Error: boom (id 42)" in analysis.problem
    assert f"on revision {run.revision.name}" in analysis.problem
    assert f"First seen {first.created_at:%Y-%m-%d %H:%M} UTC in run #{first.pk}" in (
        analysis.problem
    )
    assert "failed 4 time(s) in 2 run(s) since" in analysis.problem
    assert analysis.events.get().who == operator


def test_it_starts_an_analysis_from_a_signature_using_its_latest_run(history, operator, login):
    history.run({0: "failed"})
    latest = history.run({0: "failed", 2: "failed"})
    signature = latest.results.get(case=history.cases[2]).signature

    login(operator).post(reverse("analyze-signature", args=[signature.pk]))

    analysis = Analysis.objects.get()
    assert analysis.signature == signature
    assert analysis.run == latest
    assert set(analysis.cases.all()) == {history.cases[0], history.cases[2]}
    assert "failed 3 time(s) in 2 run(s) since" in analysis.problem


def test_it_starts_one_analysis_of_all_failures_of_a_run(history, operator, login):
    run = history.run({0: "failed", 1: "error"}, messages={0: "timeout", 1: "refused"})

    login(operator).post(reverse("analyze-run", args=[run.pk]))

    analysis = Analysis.objects.get()
    assert analysis.run == run
    assert analysis.signature is None  # two signatures: linked through the run and the tests
    assert set(analysis.cases.all()) == {history.cases[0], history.cases[1]}
    assert analysis.title == "2 tests fail"


def test_it_shows_the_open_analysis_instead_of_starting_a_second_one(history, operator, login):
    run = history.run({0: "failed"})
    result = run.results.get(case=history.cases[0])
    client = login(operator)
    client.post(reverse("analyze-result", args=[result.pk]))

    response = client.post(reverse("analyze-signature", args=[result.signature_id]), follow=True)

    analysis = Analysis.objects.get()
    assert response.redirect_chain[-1][0] == analysis.get_absolute_url()
    assert "already covers this failure" in response.content.decode()


def test_it_says_a_green_run_has_nothing_to_analyze(history, operator, login):
    run = history.run({})

    response = login(operator).post(reverse("analyze-run", args=[run.pk]), follow=True)

    assert Analysis.objects.count() == 0
    assert f"Run #{run.pk} has no failing tests to analyze." in response.content.decode()


def test_it_refuses_to_analyze_a_passing_result(history, operator, login):
    run = history.run({})
    result = run.results.first()

    response = login(operator).post(reverse("analyze-result", args=[result.pk]), follow=True)

    assert Analysis.objects.count() == 0
    assert "did not fail" in response.content.decode()


@pytest.mark.parametrize("target", ["analyze-result", "analyze-signature", "analyze-run"])
def test_a_viewer_cannot_start_an_analysis(history, viewer, login, target):
    run = history.run({0: "failed"})
    result = run.results.get(case=history.cases[0])
    pk = {"analyze-result": result.pk, "analyze-signature": result.signature_id}.get(target, run.pk)

    response = login(viewer).post(reverse(target, args=[pk]))

    assert response.status_code == 403
    assert Analysis.objects.count() == 0


def test_the_analyze_button_shows_for_operators_only(history, operator, viewer, rf):
    from django.template.loader import render_to_string

    run = history.run({0: "failed"})
    result = run.results.get(case=history.cases[0])

    def render(user, **context):
        request = rf.get("/")
        request.user = user
        return render_to_string("analyses/_analyze_button.html", context, request=request)

    assert reverse("analyze-result", args=[result.pk]) in render(operator, result=result)
    assert reverse("analyze-run", args=[run.pk]) in render(operator, run=run)
    assert reverse("analyze-signature", args=[result.signature_id]) in render(
        operator, signature=result.signature
    )
    assert "Analyze" not in render(viewer, result=result, run=run)
