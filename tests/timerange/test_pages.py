"""The app-wide time range on the pages: what falls outside it is neither listed nor charted,
every page shows the same range in its header, and a bad range is a 400 with a sentence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analyses.models import ActionItem, Analysis
from health.models import Incident
from tests.factories import CaseFactory, RevisionFactory, SuiteFactory
from tests.health.helpers import make_probe
from tests.pages.conftest import make_run


@pytest.fixture
def world(db):
    """One suite with a run 3 days old (inside 7 d) and one 20 days old (outside 7 d, inside
    the default 30 d), on one revision; an analysis and an incident at each age."""
    now = timezone.now()
    suite = SuiteFactory(name="e2e")
    service = suite.service
    case = CaseFactory(suite=suite, key="tests/test_a.py::test_one")
    revision = RevisionFactory(service=service, name="web-00001")
    old = make_run(suite, {case: "failed"}, revision=revision, at=now - timedelta(days=20))
    new = make_run(suite, {case: "passed"}, revision=revision, at=now - timedelta(days=3))
    analyses = {}
    for label, age in (("old", 20), ("new", 3)):
        analysis = Analysis.objects.create(service=service, title=f"{label} analysis", problem="p")
        Analysis.objects.filter(pk=analysis.pk).update(
            created_at=now - timedelta(days=age), updated_at=now - timedelta(days=age)
        )
        item = ActionItem.objects.create(analysis=analysis, what=f"{label} item")
        ActionItem.objects.filter(pk=item.pk).update(created_at=now - timedelta(days=age))
        analyses[label] = analysis
    probe = make_probe(service)
    for label, age in (("old", 20), ("new", 3)):
        Incident.objects.create(
            probe=probe,
            service=service,
            opened_at=now - timedelta(days=age),
            closed_at=now - timedelta(days=age) + timedelta(minutes=5),
            first_error=f"{label} incident",
        )
    return {
        "service": service,
        "suite": suite,
        "case": case,
        "revision": revision,
        "old": old,
        "new": new,
    }


def run_link(run) -> str:
    return f'href="{reverse("run-detail", args=[run.pk])}"'


def page_urls(world) -> dict[str, str]:
    return {
        "overview": reverse("overview"),
        "service": reverse("service-detail", args=[world["service"].name]),
        "suite": reverse("suite-detail", args=[world["suite"].pk]),
        "revision": reverse("revision-detail", args=[world["revision"].pk]),
        "test": reverse("test-detail", args=[world["case"].pk]),
        "health": reverse("service-health", args=[world["service"].name]),
        "analyses": reverse("analysis-list"),
        "action items": reverse("action-item-list"),
        "summary": reverse("reports:summary"),
    }


@pytest.mark.parametrize("name", ["service", "suite", "revision"])
def test_a_run_outside_the_range_is_not_listed_and_one_inside_is(world, manager, login, name):
    client = login(manager)
    url = page_urls(world)[name]

    week = client.get(url, {"range": "7d"}).content.decode()
    month = client.get(url, {"range": "30d"}).content.decode()

    assert run_link(world["new"]) in week
    assert run_link(world["old"]) not in week
    assert run_link(world["old"]) in month and run_link(world["new"]) in month


def test_the_suite_charts_only_the_runs_in_range(world, viewer, login):
    client = login(viewer)
    url = page_urls(world)["suite"]

    week = client.get(url, {"range": "7d"}).context["series"].points
    custom = (
        client.get(
            url,
            {
                "from": (world["old"].created_at - timedelta(hours=1)).isoformat(),
                "to": (world["old"].created_at + timedelta(hours=1)).isoformat(),
            },
        )
        .context["series"]
        .points
    )

    assert [p.run_id for p in week] == [world["new"].pk]
    assert [p.run_id for p in custom] == [world["old"].pk]


def test_the_test_page_history_holds_only_the_runs_in_range(world, viewer, login):
    client = login(viewer)
    url = page_urls(world)["test"]

    week = client.get(url, {"range": "7d"}).context["strip"]
    month = client.get(url).context["strip"]

    assert [r["run_id"] for r in week] == [world["new"].pk]
    assert [r["run_id"] for r in month] == [world["old"].pk, world["new"].pk]


def test_the_overview_counts_and_charts_the_runs_in_range(world, viewer, login):
    client = login(viewer)

    (week,) = client.get("/", {"range": "7d"}).context["cards"]
    (month,) = client.get("/").context["cards"]

    assert week.runs_in_range == 1 and [pk for pk, _, _ in week.by_run] == [world["new"].pk]
    assert month.runs_in_range == 2
    assert 'class="runs-in-range">1 run<' in client.get("/", {"range": "7d"}).content.decode()


def test_the_analyses_list_shows_those_updated_in_range_and_says_so(world, viewer, login):
    client = login(viewer)

    week = client.get(page_urls(world)["analyses"], {"range": "7d"}).content.decode()

    assert "new analysis" in week and "old analysis" not in week
    assert "Analyses updated last 7 d." in week


def test_action_items_in_range_and_every_overdue_one_are_listed(world, viewer, login):
    ActionItem.objects.filter(what="old item").update(
        due_date=timezone.localdate() - timedelta(days=1)
    )
    ActionItem.objects.create(analysis=Analysis.objects.get(title="old analysis"), what="stale")
    ActionItem.objects.filter(what="stale").update(created_at=timezone.now() - timedelta(days=20))
    client = login(viewer)

    week = client.get(page_urls(world)["action items"], {"range": "7d"}).content.decode()

    assert "new item" in week and "old item" in week  # overdue: shown whatever its age
    assert "stale" not in week
    assert "and every overdue one whenever it was created" in week


def test_the_health_page_lists_incidents_in_range(world, viewer, login):
    client = login(viewer)

    week = client.get(page_urls(world)["health"], {"range": "7d"}).content.decode()

    assert "new incident" in week and "old incident" not in week


def test_the_summary_covers_the_range_in_whole_days_unless_its_form_chose_days(
    world, manager, login
):
    client = login(manager)
    today = timezone.localdate()

    ranged = client.get(page_urls(world)["summary"], {"range": "7d"}).context["scope"]
    chosen = client.get(
        page_urls(world)["summary"], {"range": "7d", "start": "2026-01-01", "end": "2026-01-31"}
    ).context["scope"]

    assert (ranged.start, ranged.end) == (today - timedelta(days=6), today)
    assert (chosen.start.isoformat(), chosen.end.isoformat()) == ("2026-01-01", "2026-01-31")


@pytest.mark.parametrize(
    "name",
    [
        "overview",
        "service",
        "suite",
        "revision",
        "test",
        "health",
        "analyses",
        "action items",
        "summary",
    ],
)
def test_every_page_shows_the_same_range_in_its_header_and_carries_it_in_nav_links(
    world, manager, login, name
):
    html = login(manager).get(page_urls(world)[name], {"range": "7d"}).content.decode()

    assert '<a href="?range=7d" aria-current="true">7 d</a>' in html
    assert f'href="{reverse("analysis-list")}?range=7d">Analyses</a>' in html


@pytest.mark.parametrize(
    "name",
    [
        "overview",
        "service",
        "suite",
        "revision",
        "test",
        "health",
        "analyses",
        "action items",
        "summary",
    ],
)
def test_a_bad_range_is_a_400_with_a_sentence_on_every_page(world, manager, login, name):
    client = login(manager)
    url = page_urls(world)[name]

    bad = client.get(url, {"range": "2w"})
    half = client.get(url, {"from": "2026-11-01"})

    assert bad.status_code == 400 and half.status_code == 400
    assert "“2w” is not a time range" in bad.content.decode()
    assert "A custom time range needs both from and to" in half.content.decode()


def test_a_page_opened_without_a_range_gets_the_last_one_chosen_in_the_url(world, viewer, login):
    client = login(viewer)
    url = page_urls(world)["suite"]
    client.get(url, {"range": "7d"})

    followed = client.get(page_urls(world)["service"], {"x": "1"}, headers={"Accept": "text/html"})
    partial = client.get(page_urls(world)["service"], headers={"HX-Request": "true"})

    assert followed.status_code == 302
    assert followed["Location"] == page_urls(world)["service"] + "?x=1&range=7d"
    assert partial.status_code == 200  # htmx partials are not redirected; they use the default


def test_the_health_page_takes_a_custom_span_and_picks_its_rollup(world, viewer, login):
    opened = timezone.now() - timedelta(days=20)

    response = login(viewer).get(
        page_urls(world)["health"],
        {"from": (opened - timedelta(hours=2)).isoformat(), "to": opened.isoformat()},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "old incident" in html and "new incident" not in html
    assert response.context["range"].is_custom
