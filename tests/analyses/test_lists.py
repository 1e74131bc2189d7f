"""Lists of analyses and open action items; the counts the overview shows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from analyses.models import ActionItem, Analysis
from analyses.selectors.analyses import analysis_counts_by_service, open_action_items
from tests.factories import RunFactory, ServiceFactory, SuiteFactory

# Session, user, permissions, the analyses, their counts and the runs waiting for one.
WAITING_LIST_QUERIES = 8

pytestmark = pytest.mark.django_db


def _analysis(service, status="draft", title="t"):
    return Analysis.objects.create(service=service, title=title, problem="p", status=status)


def test_it_lists_analyses_by_status_and_service(viewer, login):
    web, api = ServiceFactory(), ServiceFactory()
    _analysis(web, "draft", "web draft")
    _analysis(web, "done", "web done")
    _analysis(api, "draft", "api draft")
    client = login(viewer)

    drafts = client.get(reverse("analysis-list"), {"status": "draft"}).content.decode()
    web_only = client.get(reverse("analysis-list"), {"service": web.pk}).content.decode()

    assert "web draft" in drafts and "api draft" in drafts and "web done" not in drafts
    assert "web draft" in web_only and "web done" in web_only and "api draft" not in web_only


def test_open_action_items_come_by_owner_with_overdue_first():
    users = get_user_model().objects
    ann, bob = users.create(username="ann"), users.create(username="bob")
    analysis = _analysis(ServiceFactory())
    today = date(2030, 6, 1)

    def item(what, owner, due, status="open"):
        ActionItem.objects.create(
            analysis=analysis, what=what, owner=owner, due_date=due, status=status
        )

    item("ann later", ann, today + timedelta(days=3))
    item("ann none", ann, None)
    item("bob overdue", bob, today - timedelta(days=1))
    item("bob later", bob, today + timedelta(days=1))
    item("ann closed", ann, today - timedelta(days=9), status="done")
    item("nobody overdue", None, today - timedelta(days=9))

    rows = [(i.what, i.is_overdue) for i in open_action_items(today=today)]

    assert rows == [
        ("bob overdue", 1),
        ("bob later", 0),
        ("ann later", 0),
        ("ann none", 0),
        ("nobody overdue", 1),
    ]


def test_the_action_items_page_marks_overdue_items(operator, viewer, login):
    analysis = _analysis(ServiceFactory())
    ActionItem.objects.create(
        analysis=analysis, what="Late thing", owner=operator, due_date=date(2000, 1, 1)
    )

    page = login(viewer).get(reverse("action-item-list")).content.decode()

    assert "Late thing" in page and "overdue" in page


def test_it_counts_open_analyses_and_overdue_items_per_service(django_assert_num_queries):
    web, api, quiet = ServiceFactory(), ServiceFactory(), ServiceFactory()
    _analysis(web, "draft")
    _analysis(web, "in_review")
    _analysis(web, "done")
    late = _analysis(api, "verified")
    ActionItem.objects.create(analysis=late, what="x", due_date=date(2000, 1, 1))
    ActionItem.objects.create(analysis=late, what="y", due_date=date(2000, 1, 1), status="done")
    ActionItem.objects.create(analysis=late, what="z", due_date=date(2999, 1, 1))

    with django_assert_num_queries(2):
        counts = analysis_counts_by_service()

    assert counts == {
        web.pk: {"open_analyses": 2, "overdue_action_items": 0},
        api.pk: {"open_analyses": 0, "overdue_action_items": 1},
    }
    assert quiet.pk not in counts


@pytest.mark.parametrize("runs", [1, 8])
def test_the_runs_waiting_for_an_analysis_take_as_many_queries_for_many_suites_as_for_one(
    viewer, login, django_assert_num_queries, runs
):
    for i in range(runs):
        RunFactory(suite=SuiteFactory(name=f"e2e-{i}"), status="failed", failed=1)
    client = login(viewer)
    client.get(reverse("analysis-list"))  # the session's time range is remembered once

    with django_assert_num_queries(WAITING_LIST_QUERIES):
        page = client.get(reverse("analysis-list")).content.decode()

    assert f"/ e2e-{runs - 1}<" in page
