"""The compare picker on the service and compare pages: recent runs per suite and revisions,
prefilled with the two compared, submitting two values that /compare reads as a pair."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from runs.selectors.compare_picker import RUNS_PER_SUITE, compare_picker
from tests.factories import SuiteFactory
from tests.pages.conftest import build_history, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(db):
    return build_history(runs=4, tests=3)


def test_it_lists_the_recent_runs_of_each_suite_and_the_revisions(history, at):
    suite = history["suite"]
    other = SuiteFactory(service=suite.service, name="api")
    other_run = make_run(other, {}, at=at(30))

    picker = compare_picker(service_id=suite.service_id)

    assert [name for name, _ in picker.suites] == ["api", "e2e"]
    assert [r.pk for r in picker.suites[0][1]] == [other_run.pk]
    assert [r.pk for r in picker.suites[1][1]] == [r.pk for r in reversed(history["runs"])]
    assert [v.pk for v in picker.revisions] == [v.pk for v in reversed(history["revisions"])]


def test_it_keeps_only_the_last_runs_of_a_suite_but_always_the_chosen_ones(
    history, at, django_assert_max_num_queries
):
    suite = history["suite"]
    for n in range(RUNS_PER_SUITE):
        make_run(suite, {}, at=at(10 + n))
    oldest = history["runs"][0]

    plain = compare_picker(service_id=suite.service_id)
    with django_assert_max_num_queries(3):
        chosen = compare_picker(
            service_id=suite.service_id, runs=(oldest.pk, history["runs"][-1].pk)
        )

    assert len(plain.suites[0][1]) == RUNS_PER_SUITE
    assert oldest.pk not in [r.pk for r in plain.suites[0][1]]
    assert oldest.pk in [r.pk for r in chosen.suites[0][1]]
    assert (chosen.run_a, chosen.run_b) == (oldest.pk, history["runs"][-1].pk)


def test_the_service_page_offers_both_pickers(login, viewer, history):
    page = login(viewer).get(reverse("service-detail", args=[history["suite"].service.name]))

    body = page.content.decode()
    assert 'id="pick-runs"' in body and 'id="pick-revisions"' in body
    assert f'<option value="{history["runs"][0].pk}">' in body
    assert 'name="runs" required' in body


def test_the_compare_page_prefills_the_picker_with_the_two_compared(login, viewer, history):
    a, b = history["runs"][0], history["runs"][-1]

    body = login(viewer).get(reverse("compare") + f"?runs={a.pk},{b.pk}").content.decode()

    selected = re.findall(r'<option value="(\d+)" selected>', body)
    assert selected == [str(a.pk), str(b.pk)]


def test_compare_reads_the_two_selects_as_a_pair(login, viewer, history):
    a, b = history["runs"][0], history["runs"][-1]
    client = login(viewer)

    by_selects = client.get(reverse("compare"), {"runs": [a.pk, b.pk]})
    by_url = client.get(reverse("compare") + f"?runs={a.pk},{b.pk}")
    revisions = client.get(
        reverse("compare"), {"revisions": [history["revisions"][0].pk, history["revisions"][-1].pk]}
    )

    assert by_selects.status_code == 200
    counts = re.compile(r'<p id="change-counts">[^<]*</p>')
    assert counts.findall(by_selects.content.decode()) == counts.findall(by_url.content.decode())
    assert "2 newly failing in B" in by_selects.content.decode()  # test 0 errors, test 1 fails
    assert revisions.status_code == 200


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ({"runs": ["{a}", "{a}"]}, "pick two different runs"),
        ({"runs": ["", "{a}"]}, "Pick one for A and one for B"),
        ({"runs": ["{a}", "999999"]}, "There is no run #999999."),
        ({"revisions": ["{a}", "x"]}, "“x” is not a revision id"),
        ({"runs": ["{a}", "{a}", "{a}"]}, "Give exactly two run ids"),
    ],
)
def test_a_bad_pick_is_refused_with_a_sentence(login, viewer, history, query, sentence):
    pk = history["runs"][0].pk
    params = {k: [v.format(a=pk) for v in vs] for k, vs in query.items()}

    response = login(viewer).get(reverse("compare"), params)

    assert response.status_code == 400
    assert sentence in response.content.decode()
