"""Each summary figure against a hand-computed expectation (see conftest.known's comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analyses.models import ActionItem, Analysis
from reports.numbers import fraction_text, percent_text, points_text
from reports.scope import Scope
from reports.summary import summary_build

from .conftest import END, START, at, set_time

pytestmark = pytest.mark.django_db


def _summary(known, start=START, end=END):
    return summary_build(scope=Scope(start=start, end=end, services=(known["web"],)))


def _text(summary, key):
    return summary.figure(key).text


def test_test_figures_match_the_hand_computed_values(known):
    s = _summary(known)

    assert _text(s, "tests.runs") == "6"
    assert _text(s, "tests.failing_runs") == "4"
    assert _text(s, "tests.pass_rate") == "93.6 %"  # 562 / 600 = 93.67 %, never rounded up
    assert _text(s, "tests.pass_rate_now") == "97.0 %"  # latest run: 97 / 100
    assert _text(s, "tests.pass_rate_trend") == "+7.3 pp"  # 292/300 - 270/300
    assert _text(s, f"tests.suite_size.{known['suite'].pk}") == "100 of 1000 tests (10.0 %)"


def test_delivery_figures_match_the_hand_computed_values_and_bands(known):
    s = _summary(known)

    assert _text(s, "delivery.deploys") == "6"  # the rollback is not a change
    frequency = s.figure("delivery.deploy_frequency")
    assert (frequency.text, frequency.band) == ("1.5 per week", "High")
    assert "DORA 2023" in frequency.band_source
    cfr = s.figure("delivery.change_failure_rate")
    assert (cfr.text, cfr.band) == ("66.6 % (4 of 6)", "Low")
    restore = s.figure("delivery.time_to_restore")
    assert (restore.text, restore.n, restore.band) == ("5.5 days", 2, "Medium")  # (96 h + 168 h)/2
    lead = s.figure("delivery.lead_time")
    assert (lead.text, lead.n, lead.band) == ("5.0 h", 3, "Elite")  # median of 2 h, 5 h, 30 h


def test_reliability_figures_match_the_hand_computed_values(known):
    s = _summary(known)

    assert _text(s, "reliability.uptime") == "99.6 %"
    # numpy's p95 of 950 latencies of 40 ms and 50 of 900 ms: between the 950th and the 951st
    assert _text(s, "reliability.p95_latency") == "83 ms"
    assert _text(s, "reliability.incidents") == "2"
    assert _text(s, "reliability.incident_time") == "2.5 h"  # 90 min + 1 h until the end
    assert _text(s, "reliability.longest_incident") == "90 min"
    assert _text(s, "reliability.open_incidents") == "1"


def test_learning_figures_count_analyses_and_action_items(known, operator):
    web = known["web"]
    inside = Analysis.objects.create(service=web, title="a", problem="p", status="verified")
    set_time(inside, created_at=at(3), done_at=at(4), verified_at=at(6))
    before = Analysis.objects.create(service=web, title="b", problem="p", status="done")
    set_time(before, created_at=at(1).replace(month=1), done_at=at(2))
    ActionItem.objects.create(analysis=inside, what="late", due_date=date(2000, 1, 1))
    ActionItem.objects.create(analysis=inside, what="fine", due_date=date(2999, 1, 1))
    ActionItem.objects.create(analysis=inside, what="closed", status="done")
    Analysis.objects.create(service=known["other"], title="c", problem="p")  # out of scope

    s = _summary(known)

    assert [
        _text(s, f"learning.{k}")
        for k in (
            "analyses_opened",
            "analyses_done",
            "analyses_verified",
            "action_items_open",
            "action_items_overdue",
        )
    ] == ["1", "2", "1", "2", "1"]


def test_figures_with_too_little_data_say_so_instead_of_a_number(known):
    s = _summary(known, start=date(2030, 3, 2), end=date(2030, 3, 2))

    assert _text(s, "tests.runs") == "1"
    assert _text(s, "tests.pass_rate") == "not enough data (1 runs, needs 3)"
    assert _text(s, "tests.pass_rate_now") == "90.0 %"
    assert _text(s, "tests.pass_rate_trend").startswith("not enough data (0 runs")
    assert _text(s, "delivery.deploy_frequency") == "not enough data (1 days, needs 7)"
    assert _text(s, "delivery.change_failure_rate") == "not enough data (1 deploys, needs 5)"
    assert _text(s, "delivery.time_to_restore") == "not enough data (0 restores, needs 2)"
    assert _text(s, "delivery.lead_time") == (
        "not enough data (1 deploys with a commit time, needs 3)"
    )
    assert _text(s, "reliability.uptime") == "not enough data (0 checks, needs 100)"
    assert _text(s, "reliability.p95_latency") == "not enough data (0 checks, needs 100)"
    assert s.figure("delivery.lead_time").value is None


def test_a_service_without_any_data_says_not_enough_everywhere_it_should(db):
    from tests.factories import ServiceFactory

    s = summary_build(scope=Scope(start=START, end=END, services=(ServiceFactory(),)))

    assert _text(s, "tests.runs") == "0"
    assert _text(s, "tests.pass_rate_now") == "not enough data (0 runs, needs 1)"
    assert s.capabilities == [] and s.risks == []


@pytest.mark.parametrize(
    ("numerator", "denominator", "text"),
    [
        (9996, 10000, "99.9 %"),
        (1999, 2000, "99.9 %"),
        (1, 1, "100.0 %"),
        (0, 7, "0.0 %"),
        (2, 3, "66.6 %"),
        (29, 100, "29.0 %"),
    ],
)
def test_percentages_are_never_rounded_up(numerator, denominator, text):
    assert percent_text(numerator, denominator) == text


def test_fractions_and_points_are_truncated_too():
    assert fraction_text(0.99999) == "99.9 %"
    assert fraction_text(1.0) == "100.0 %"
    assert points_text(-0.05) == "±0.0 pp"
    assert points_text(-2.99) == "-2.9 pp"


def test_the_summary_takes_a_fixed_number_of_queries(known, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        _summary(known)


def test_a_failure_episode_begun_before_the_period_is_not_counted_again(db):
    from reports.selectors.delivery import restores
    from tests.factories import SuiteFactory

    from .conftest import make_run

    def february(run, day):
        return set_time(run, created_at=datetime(2030, 2, day, 12, tzinfo=UTC))

    red_before, green_before = SuiteFactory(), SuiteFactory()
    february(make_run(red_before, 1, 10, 0), 26)
    february(make_run(red_before, 1, 9, 1), 27)  # the episode began before the period
    still_red = make_run(red_before, 1, 9, 1)
    make_run(red_before, 3, 10, 0)
    february(make_run(green_before, 1, 10, 0), 27)
    new_episode = make_run(green_before, 2, 9, 1)  # after a green run before the period
    make_run(green_before, 2, 9, 0, errors=1, hour=13)  # the same episode
    make_run(green_before, 4, 10, 0)
    services = (red_before.service, green_before.service)

    found = list(restores(Scope(start=START, end=END, services=services)).order_by("pk"))

    assert [r.pk for r in found] == [new_episode.pk]
    assert found[0].restore.days == 2
    assert still_red.pk not in [r.pk for r in found]
