"""Owners: CODEOWNERS-style rules per suite; the last matching rule wins; shown on the test
page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from runs.models import OwnerRule
from runs.selectors.owners import case_owner, owns
from tests.factories import CaseFactory

from .conftest import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments(db):
    return Group.objects.create(name="payments")


def test_the_last_matching_rule_wins(suite, operator, payments):
    case = CaseFactory(
        suite=suite, key="k1", file="tests/pay/test_refund.py", classname="RefundTest"
    )
    OwnerRule.objects.create(
        suite=suite, position=1, field="file", pattern="tests/*", team=payments
    )
    OwnerRule.objects.create(
        suite=suite, position=2, field="classname", pattern="Refund*", user=operator
    )
    OwnerRule.objects.create(
        suite=suite, position=3, field="name", pattern="nothing*", team=payments
    )

    owner = case_owner(case=case)

    assert owner is not None and owner.owner_name == operator.username
    assert owns(owner, operator)


def test_a_team_owns_through_its_members(suite, viewer, payments):
    case = CaseFactory(suite=suite, key="k2", file="tests/pay/test_card.py")
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/pay/*", team=payments)
    rule = case_owner(case=case)

    assert rule is not None and rule.owner_name == "team payments"
    assert not owns(rule, viewer)
    viewer.groups.add(payments)
    assert owns(rule, viewer)


def test_nobody_owns_an_unmatched_test(suite):
    case = CaseFactory(suite=suite, key="k3", file="tests/other.py")
    OwnerRule.objects.create(
        suite=suite,
        field="file",
        pattern="tests/pay/*",
        user=None,
        team=Group.objects.create(name="t"),
    )

    assert case_owner(case=case) is None


def test_the_test_page_shows_the_owner(login, viewer, suite, payments):
    case = CaseFactory(suite=suite, key="k4", file="tests/pay/test_x.py")
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/pay/*", team=payments)

    page = login(viewer).get(f"/tests/{case.pk}/").content.decode()

    assert 'id="test-owner"' in page and "team payments" in page


def test_the_suite_page_shows_owners_of_flaky_tests_and_filters_mine(
    login, viewer, operator, suite, revisions, at, payments
):
    mine = CaseFactory(suite=suite, key="a", name="test_mine", file="tests/pay/test_a.py")
    theirs = CaseFactory(suite=suite, key="b", name="test_theirs", file="tests/chat/test_b.py")
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/pay/*", team=payments)
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/chat/*", user=operator)
    viewer.groups.add(payments)
    for n in range(4):
        outcome = "passed" if n % 2 else "failed"
        make_run(suite, {mine: outcome, theirs: outcome}, revision=revisions[0], at=at(n))
    client = login(viewer)

    everyone = client.get(f"/suites/{suite.pk}/").content.decode()
    only_mine = client.get(f"/suites/{suite.pk}/?mine=1").content.decode()

    assert "test_mine" in everyone and "test_theirs" in everyone and "team payments" in everyone
    section = only_mine[only_mine.index('id="flaky-tests"') :]
    section = section[: section.index("</section>")]
    assert "test_mine" in section and "test_theirs" not in section


def test_the_run_page_names_the_owner_of_each_failure(login, viewer, suite, payments):
    case = CaseFactory(suite=suite, key="c", name="test_pay", file="tests/pay/test_c.py")
    OwnerRule.objects.create(suite=suite, field="file", pattern="tests/pay/*", team=payments)
    run = make_run(suite, {case: "failed"})

    page = login(viewer).get(f"/runs/{run.pk}/").content.decode()

    assert "owner: team payments" in page
