"""Owners on analyses and action items: the owners of the tests an analysis is about, by the
suites' owner rules, shown on the analysis page and both lists, which filter "mine"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from analyses.models import ActionItem, Analysis
from analyses.selectors.owners import analyses_owned_by
from analyses.services.analyses import analysis_drafts_for_run
from runs.models import OwnerRule
from tests.analyses.conftest import History
from tests.factories import CaseFactory, SuiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments(db):
    return Group.objects.create(name="payments")


@pytest.fixture
def suite(db):
    return SuiteFactory()


def _analysis(suite, title, *cases, status="draft"):
    analysis = Analysis.objects.create(
        service=suite.service, title=title, problem="p", status=status
    )
    analysis.cases.set(cases)
    return analysis


@pytest.fixture
def two(suite, payments, operator):
    """An analysis about a payments test, one about a test the operator owns, one nobody owns."""
    pay = CaseFactory(suite=suite, key="p", name="test_pay", file="tests/pay/test_p.py")
    chat = CaseFactory(suite=suite, key="c", name="test_chat", file="tests/chat/test_c.py")
    other = CaseFactory(suite=suite, key="o", name="test_other", file="tests/other.py")
    OwnerRule.objects.create(
        suite=suite, position=1, field="file", pattern="tests/*", user=operator
    )
    OwnerRule.objects.create(
        suite=suite, position=2, field="file", pattern="tests/pay/*", team=payments
    )
    OwnerRule.objects.create(
        suite=suite, position=3, field="file", pattern="tests/other.py", team=payments
    )
    OwnerRule.objects.create(
        suite=suite, position=4, field="file", pattern="tests/other.py", user=operator
    )
    return {
        "pay": _analysis(suite, "payments break", pay),
        "chat": _analysis(suite, "chat breaks", chat),
        "other": _analysis(suite, "other breaks", other),
    }


def test_an_analysis_is_mine_through_my_team_and_the_last_matching_rule(
    two, viewer, operator, payments
):
    viewer.groups.add(payments)

    # tests/other.py: the payments rule is overridden by the operator's, read after it.
    assert analyses_owned_by(user=viewer) == {two["pay"].pk}
    assert analyses_owned_by(user=operator) == {two["chat"].pk, two["other"].pk}


def test_the_analysis_page_names_the_owner_of_each_test(two, login, viewer):
    page = login(viewer).get(two["pay"].get_absolute_url()).content.decode()

    owners = page[page.index('id="test-owners"') :]
    assert owners[: owners.index("</dd>")].count("team payments") == 1
    assert "owner: team payments" in page
    assert 'id="action-items-owners"' in page


def test_the_analyses_list_shows_owners_and_filters_mine(two, login, viewer, payments):
    viewer.groups.add(payments)
    client = login(viewer)

    everyone = client.get(reverse("analysis-list")).content.decode()
    mine = client.get(reverse("analysis-list"), {"mine": "1"}).content.decode()

    assert "payments break" in everyone and "chat breaks" in everyone
    assert "owner: team payments" in everyone and "owner: otto-operator" in everyone
    table = mine[mine.index('id="analyses"') :]
    assert "payments break" in table and "chat breaks" not in table
    assert "other breaks" not in table


def test_mine_without_any_owned_test_says_so(two, login, manager):
    page = login(manager).get(reverse("analysis-list"), {"mine": "1"}).content.decode()

    assert "No analysis about a test that you or your teams own." in page


def test_the_action_items_list_shows_test_owners_and_filters_mine(two, login, viewer, payments):
    viewer.groups.add(payments)
    ActionItem.objects.create(analysis=two["pay"], what="Retry the refund")
    ActionItem.objects.create(analysis=two["chat"], what="Fix the websocket")
    client = login(viewer)

    everyone = client.get(reverse("action-item-list")).content.decode()
    mine = client.get(reverse("action-item-list"), {"mine": "1"}).content.decode()

    assert "Retry the refund" in everyone and "Fix the websocket" in everyone
    assert "owner: team payments" in everyone and "owner: otto-operator" in everyone
    assert "Retry the refund" in mine and "Fix the websocket" not in mine


# Session, user, permissions and the list's own queries; the owners take two more, "mine" four.
MAX_QUERIES = {
    ("/analyses/", False): 11,
    ("/analyses/", True): 15,
    ("/action-items/", False): 9,
    ("/action-items/", True): 13,
}


@pytest.mark.parametrize("rows", [2, 20])
def test_the_lists_take_as_many_queries_for_many_rows_as_for_few(
    suite, payments, viewer, login, django_assert_max_num_queries, rows
):
    viewer.groups.add(payments)
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/*", team=payments)
    for i in range(rows):
        case = CaseFactory(suite=suite, key=f"k{i}", file=f"tests/test_{i}.py")
        analysis = _analysis(suite, f"a{i}", case, status="in_review")
        ActionItem.objects.create(analysis=analysis, what=f"w{i}")
    client = login(viewer)

    for url, row in ((reverse("analysis-list"), "a1<"), (reverse("action-item-list"), "w1<")):
        for query in ({}, {"mine": "1"}):
            with django_assert_max_num_queries(MAX_QUERIES[url, bool(query)]):
                page = client.get(url, query).content.decode()
            assert row in page and "owner: team payments" in page


def test_a_runs_drafts_row_names_the_owners_of_every_draft(login, viewer, operator, payments):
    history = History()
    OwnerRule.objects.create(suite=history.suite, field="name", pattern="test_0", user=operator)
    OwnerRule.objects.create(suite=history.suite, field="name", pattern="test_1", team=payments)
    run = history.run({0: "failed", 1: "failed"}, messages={0: "socket closed", 1: "card declined"})
    assert len(analysis_drafts_for_run(run=run)) == 2

    page = login(viewer).get(reverse("analysis-list")).content.decode()

    row = page[page.index(f'<tr class="draft-batch" data-run="{run.pk}"') :]
    row = row[: row.index("</tr>")]
    owners = row[row.index('class="small muted owner"') :]
    assert owners.startswith('class="small muted owner">owners: ')
    assert "otto-operator" in owners and "team payments" in owners
