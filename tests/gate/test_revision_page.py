"""The revision page answers "may this go further?" with the verdict, its rules and evidence."""

from __future__ import annotations

import pytest

from runs.models import FailureSignature
from runs.services.gates import gate_evaluate
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_verdict_each_rule_and_its_evidence(
    login, viewer, suite, cases, revisions
):
    sig = FailureSignature.objects.create(
        suite=suite, kind="failed", hash="h1", normalized="KeyError: user"
    )
    make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0])
    run = make_run(
        suite,
        {cases[0]: "failed", cases[1]: "passed"},
        revision=revisions[1],
        signatures={cases[0]: sig},
    )
    gate_evaluate(run=run)

    html = login(viewer).get(f"/revisions/{revisions[1].pk}/").content.decode()

    assert 'id="verdict-outcome">Fail</span>' in html
    assert 'data-rule="no_new_signatures"' in html
    assert f'<a href="{cases[0].get_absolute_url()}">KeyError: user</a>' in html
    assert f'<a href="{run.get_absolute_url()}">run #{run.pk}</a>' in html
    assert "1 new" in html and "0 new" in html


def test_first_revision_shows_not_applicable_and_a_pass(login, viewer, suite, cases, revisions):
    gate_evaluate(run=make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0]))

    html = login(viewer).get(f"/revisions/{revisions[0].pk}/").content.decode()

    assert 'id="verdict-outcome">Pass</span>' in html
    assert '<span class="badge not_applicable">not applicable</span>' in html
    assert "nothing to compare with" in html


def test_no_verdict_yet(login, viewer, revisions):
    html = login(viewer).get(f"/revisions/{revisions[0].pk}/").content.decode()

    assert 'id="verdict-none"' in html and "No verdict yet" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_verdict_and_a_rules_evidence_link(
    browser_login, viewer, live_server, js_errors, suite, cases, revisions
):
    run = make_run(suite, {cases[0]: "error", cases[1]: "passed"}, revision=revisions[0])
    gate_evaluate(run=run)
    page = browser_login(viewer)

    page.goto(f"{live_server.url}/revisions/{revisions[0].pk}/")

    assert page.locator("#verdict-outcome").inner_text() == "Fail"
    goal = page.locator("#verdict tr[data-rule=goal]")
    assert "1 failed or errored" in goal.inner_text()
    goal.locator("a", has_text=f"run #{run.pk}").click()
    page.wait_for_url(f"**/runs/{run.pk}/")
    assert js_errors == []


def test_a_dry_run_verdict_says_so(login, viewer, suite, cases, revisions):
    from runs.models import GatePolicy

    GatePolicy.objects.create(service=suite.service, dry_run=True)
    gate_evaluate(run=make_run(suite, dict.fromkeys(cases, "passed"), revision=revisions[0]))

    html = login(viewer).get(f"/revisions/{revisions[0].pk}/").content.decode()

    assert ">dry run</span>" in html and "default rules" not in html
