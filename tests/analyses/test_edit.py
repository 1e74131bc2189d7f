"""Editing an analysis on one page, saved as a whole, with its history; Viewers only read."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analyses.models import ActionItem, Analysis, Why
from analyses.services.analyses import analysis_drafts_for_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysis(history) -> Analysis:
    return analysis_drafts_for_run(run=history.run({0: "failed"}))[0]


def _post_data(analysis: Analysis, whys=(), items=(), existing_items=(), **fields) -> dict:
    data = {
        "analysis-title": analysis.title,
        "analysis-status": analysis.status,
        "analysis-problem": analysis.problem,
        "analysis-trigger": "",
        "analysis-root_causes": "",
        "analysis-contributing_factors": "",
        "whys-TOTAL_FORMS": str(len(whys)),
        "whys-INITIAL_FORMS": "0",
        "items-TOTAL_FORMS": str(len(existing_items) + len(items)),
        "items-INITIAL_FORMS": str(len(existing_items)),
    }
    data.update({f"analysis-{k}": v for k, v in fields.items()})
    for i, why in enumerate(whys):
        data.update({f"whys-{i}-{k}": v for k, v in why.items()})
    for i, item in enumerate([*existing_items, *items]):
        data.update({f"items-{i}-{k}": v for k, v in item.items()})
    return data


def test_it_saves_problem_whys_causes_and_action_items_together(analysis, operator, login):
    whys = [
        {
            "question": "Why did chat fail?",
            "answer": "The socket closed.",
            "ORDER": "2",
            "evidence": "/runs/1/\nhttps://git.example.com/c/abc123",
        },
        {"question": "Why was the release cut?", "answer": "Nobody checked.", "ORDER": "1"},
        {"question": "Why remove this?", "ORDER": "3", "DELETE": "on"},
    ]
    items = [
        {
            "what": "Add a reconnect test",
            "owner": str(operator.pk),
            "due_date": "2030-01-31",
            "status": "open",
            "link": "/revisions/3/",
        }
    ]

    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]),
        _post_data(
            analysis,
            whys,
            items,
            status="done",
            trigger="deploy of web-42",
            root_causes="No reconnect logic\nNo test for it",
            contributing_factors="Friday release",
        ),
    )

    assert response.status_code == 302
    analysis.refresh_from_db()
    assert analysis.status == "done" and analysis.done_at is not None
    assert analysis.root_causes == ["No reconnect logic", "No test for it"]
    assert analysis.contributing_factors == ["Friday release"]
    assert analysis.trigger == "deploy of web-42"
    assert [(w.position, w.question) for w in analysis.whys.all()] == [
        (1, "Why was the release cut?"),
        (2, "Why did chat fail?"),
    ]
    assert analysis.whys.get(position=2).evidence == [
        "/runs/1/",
        "https://git.example.com/c/abc123",
    ]
    item = analysis.action_items.get()
    assert (item.what, item.owner, str(item.due_date), item.link) == (
        "Add a reconnect test",
        operator,
        "2030-01-31",
        "/revisions/3/",
    )
    event = analysis.events.first()
    assert event.who == operator
    assert "Status Draft → Done" in event.details
    assert "Added action item “Add a reconnect test”" in event.details


def test_a_bad_field_anywhere_saves_nothing_and_says_what_is_wrong(analysis, operator, login):
    whys = [{"question": "Why?", "answer": "Because.", "evidence": "javascript:alert(1)"}]
    items = [{"what": "Fix it", "due_date": "31/31/2030", "status": "open"}]
    before = analysis.events.count()

    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]),
        _post_data(analysis, whys, items, title="A new title", root_causes="One"),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "is not a link" in page
    assert "Enter a valid date." in page
    analysis.refresh_from_db()
    assert analysis.title != "A new title" and analysis.root_causes == []
    assert Why.objects.count() == 0 and ActionItem.objects.count() == 0
    assert analysis.events.count() == before


def test_done_needs_a_why_and_a_root_cause(analysis, operator, login):
    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, status="done")
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Add at least one why before marking the analysis done." in page
    assert "Name at least one root cause before marking the analysis done." in page
    analysis.refresh_from_db()
    assert analysis.status == "draft"


def test_verified_cannot_be_chosen_by_hand(analysis, operator, login):
    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, status="verified")
    )

    assert response.status_code == 400
    analysis.refresh_from_db()
    assert analysis.status == "draft"


def test_it_updates_and_removes_action_items(analysis, operator, login):
    keep = ActionItem.objects.create(analysis=analysis, what="Keep me", status="open")
    drop = ActionItem.objects.create(analysis=analysis, what="Drop me", status="open")
    existing = [
        {"id": str(keep.pk), "what": "Keep me", "status": "done"},
        {"id": str(drop.pk), "what": "Drop me", "status": "open", "DELETE": "on"},
    ]

    login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]),
        _post_data(analysis, existing_items=existing),
    )

    keep.refresh_from_db()
    assert keep.status == "done"
    assert not ActionItem.objects.filter(pk=drop.pk).exists()
    assert analysis.events.first().details == [
        "Updated action item “Keep me”",
        "Removed action item “Drop me”",
    ]


def test_the_page_shows_history_with_who_and_when(analysis, operator, viewer, login):
    login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, trigger="a deploy")
    )

    page = login(viewer).get(analysis.get_absolute_url()).content.decode()

    assert f"{operator.username} · Changed trigger" in page
    assert "Stageloop · Drafted by the analyze step" in page
    assert 'id="edit-analysis"' not in page


def test_a_viewer_reads_but_cannot_edit(analysis, viewer, login):
    client = login(viewer)

    assert client.get(analysis.get_absolute_url()).status_code == 200
    assert client.get(reverse("analysis-edit", args=[analysis.pk])).status_code == 403
    forged = client.post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, title="forged")
    )
    assert forged.status_code == 403
    analysis.refresh_from_db()
    assert analysis.title != "forged"


def test_the_edit_page_needs_csrf(analysis, operator, csrf_client):
    csrf_client.force_login(operator)

    response = csrf_client.post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, title="no token")
    )

    assert response.status_code == 403


def test_the_detail_page_takes_a_fixed_number_of_queries(
    history, operator, login, django_assert_max_num_queries
):
    analysis = analysis_drafts_for_run(run=history.run({0: "failed", 1: "failed", 2: "failed"}))[0]
    for i in range(5):
        Why.objects.create(analysis=analysis, position=i + 1, question=f"q{i}")
        ActionItem.objects.create(analysis=analysis, what=f"a{i}", owner=operator)
    client = login(operator)

    # Three of them for triage: the signature's history, the analyses a known issue may link,
    # and the signatures this analysis explains as a known issue.
    with django_assert_max_num_queries(15):
        assert client.get(analysis.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "link",
    [
        "4e1f0c2",
        "4e1f0c2a9b7d5e3f1a0c8b6d4e2f0a1b3c5d7e9f",
        "stageloop-demo:1.4.1",
        "registry.example.com/team/payments-api:2.3.0",
        "europe-docker.pkg.dev/proj/repo/web@sha256:" + "a" * 64,
        "web-00042-x7k",
        "https://github.com/acme/web/commit/4e1f0c2",
        "/revisions/3/",
    ],
)
def test_an_action_item_links_a_commit_a_build_a_revision_or_a_url(analysis, operator, login, link):
    items = [{"what": "Ship the fix", "status": "open", "link": link}]

    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, items=items)
    )

    assert response.status_code == 302, response.content.decode()
    assert analysis.action_items.get().link == link


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "fixed it yesterday", "<script>x</script>", "//evil.example"]
)
def test_an_action_item_refuses_a_link_that_names_nothing(analysis, operator, login, link):
    items = [{"what": "Ship the fix", "status": "open", "link": link}]

    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]), _post_data(analysis, items=items)
    )

    assert response.status_code == 400
    assert "a commit sha, a build such as stageloop-demo:1.4.1" in response.content.decode()
    assert ActionItem.objects.count() == 0


def test_moving_an_announced_overdue_items_due_date_announces_it_again_when_it_passes(
    analysis, operator, login
):
    from datetime import timedelta

    from django.utils import timezone

    from analyses.services.analyses import action_items_overdue_notify

    today = timezone.localdate()
    item = ActionItem.objects.create(
        analysis=analysis, what="Add a timeout", due_date=today - timedelta(days=2)
    )
    assert action_items_overdue_notify() == 1
    new_due = today + timedelta(days=7)
    existing = {
        "id": str(item.pk),
        "what": item.what,
        "owner": "",
        "due_date": new_due.isoformat(),
        "status": "open",
        "link": "",
    }

    response = login(operator).post(
        reverse("analysis-edit", args=[analysis.pk]),
        _post_data(analysis, existing_items=[existing]),
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.due_date == new_due and item.overdue_notified_at is None
    assert action_items_overdue_notify() == 0  # not due yet
    after_new_due = timezone.now() + timedelta(days=9)
    assert action_items_overdue_notify(now=after_new_due) == 1
