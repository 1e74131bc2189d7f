"""Probe locations end to end: results recorded per location, incidents opened by k of n
locations in simulated time, a probe's locations validated, and the page's per-location table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from health.models import Incident, ProbeResult
from health.services import probe_results_record
from tests.factories import RevisionFactory, ServiceFactory
from tests.health.helpers import T0, make_probe, outcome, seconds

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    service.current_revision = RevisionFactory(service=service, name="web-00019-loc")
    service.save()
    return service


@pytest.fixture
def probe(service):
    return make_probe(
        service,
        locations=["eu", "us", "ap"],
        quorum=2,
        failures_before_incident=3,
        successes_to_close=2,
    )


def play(probe, columns: dict[str, str], *, start: int = 0) -> None:
    """Record one round every 10 s: per location 'F' (failure), 'S' (success) or ' ' (none),
    each location's batch a second after the previous one's, as separate workers would."""
    length = max(len(column) for column in columns.values())
    for i in range(length):
        for offset, (label, column) in enumerate(columns.items()):
            if i < len(column) and column[i] != " ":
                at = T0 + seconds(10 * (start + i) + offset)
                probe_results_record(
                    outcomes=[outcome(probe, at=at, ok=column[i] == "S")], location=label
                )


def test_two_of_three_locations_failing_open_one_incident_from_the_run_that_tipped_it(probe):
    # when eu fails from round 0 and us from round 2, ap stays healthy
    play(probe, {"eu": "FFFFF", "us": "SSFFF", "ap": "SSSSS"})

    # then one incident opened when us reached three failures in a row (round 4), starting at
    # us's first failure of that run (round 2, us's offset is 1 s)
    incident = Incident.objects.get()
    assert incident.closed_at is None
    assert incident.opened_at == T0 + seconds(21)
    assert incident.first_error == "expected status 200, got 503"
    probe.refresh_from_db()
    assert probe.location_states == {
        "ap": [0, 5, False],
        "eu": [5, 0, True],
        "us": [3, 0, True],
    }
    # and each result carries the location it was probed from
    assert ProbeResult.objects.filter(location="ap").count() == 5
    assert set(ProbeResult.objects.values_list("location", flat=True)) == {"eu", "us", "ap"}


def test_one_of_three_locations_failing_opens_nothing(probe):
    play(probe, {"eu": "F" * 20, "us": "S" * 20, "ap": "S" * 20})

    assert not Incident.objects.exists()
    probe.refresh_from_db()
    assert probe.location_states["eu"] == [20, 0, True]


def test_it_closes_when_fewer_than_the_quorum_are_failing_at_the_first_success(probe):
    # given an incident opened by eu and us
    play(probe, {"eu": "FFF", "us": "FFF", "ap": "SSS"})
    assert Incident.objects.get().closed_at is None

    # when us answers twice while eu keeps failing
    play(probe, {"eu": "FFF", "us": "SS ", "ap": "SSS"}, start=3)

    # then the incident closed at us's first success of the run that closed it
    incident = Incident.objects.get()
    assert incident.closed_at == T0 + seconds(31)


def test_a_probe_of_the_default_location_behaves_as_before(service):
    # given a probe that names no location (the default: one location, quorum 1)
    probe = make_probe(service, failures_before_incident=3)
    assert (probe.locations, probe.quorum) == (["default"], 1)

    # when three failures are recorded without naming a location
    for i in range(3):
        probe_results_record(outcomes=[outcome(probe, at=T0 + seconds(10 * i), ok=False)])

    # then the incident opened as it always did, and the results are the default location's
    assert Incident.objects.get().opened_at == T0
    assert set(ProbeResult.objects.values_list("location", flat=True)) == {"default"}
    probe.refresh_from_db()
    assert probe.consecutive_failures == 3


@pytest.mark.parametrize(
    ("locations", "quorum", "field", "message"),
    [
        ([], 1, "locations", "at least one location"),
        ("eu", 1, "locations", "at least one location"),
        (["eu", "EU West"], 1, "locations", "'EU West' is not a location label"),
        (["eu", 3], 1, "locations", "3 is not a location label"),
        (["eu", "eu"], 1, "locations", "listed once"),
        (["eu", "us"], 3, "quorum", "quorum is 3 but the probe runs from only 2"),
    ],
)
def test_a_probe_with_bad_locations_is_refused_with_a_sentence(
    service, locations, quorum, field, message
):
    probe = make_probe(service)
    probe.locations, probe.quorum = locations, quorum

    with pytest.raises(ValidationError) as refused:
        probe.full_clean()

    assert message in " ".join(refused.value.message_dict[field])


def test_the_health_page_shows_latency_and_state_per_location(service, probe, login, viewer):
    # given the last ten minutes, oldest first: eu answers in 10-19 ms, us in 100-190 ms and
    # failed its latest three checks
    now = timezone.now()
    for m in range(10, 0, -1):
        at = now - timedelta(minutes=m)
        probe_results_record(outcomes=[outcome(probe, at=at, latency_ms=9 + m)], location="eu")
        probe_results_record(
            outcomes=[outcome(probe, at=at, latency_ms=90 + 10 * m, ok=m > 3)], location="us"
        )

    # when a viewer opens the health page
    response = login(viewer).get(reverse("service-health", args=[service.name]))

    # then each location has its row: checks, failures, exact nearest-rank p50/p95, state
    rows = {row.location: row for row in response.context["locations"]}
    assert list(rows) == ["eu", "us", "ap"]
    assert (rows["eu"].checks, rows["eu"].failures) == (10, 0)
    assert (rows["eu"].p50_ms, rows["eu"].p95_ms) == (14.0, 19.0)
    assert (rows["us"].checks, rows["us"].failures) == (10, 3)
    assert (rows["us"].p50_ms, rows["us"].p95_ms) == (140.0, 190.0)
    assert rows["us"].failing and not rows["eu"].failing
    assert rows["ap"].checks == 0 and rows["ap"].p50_ms is None
    html = response.content.decode()
    assert 'id="locations"' in html
    assert '<tr data-location="us">' in html and "failing" in html
    assert "3 failures at 2 of 3 locations (eu, us, ap)" in html


def test_the_health_page_of_a_single_location_service_has_no_locations_section(
    service, login, viewer
):
    make_probe(service)

    response = login(viewer).get(reverse("service-health", args=[service.name]))

    assert response.status_code == 200
    assert 'id="locations"' not in response.content.decode()


def test_the_probes_table_says_the_state_now_of_each_location(service, probe, login, viewer):
    # given eu answering its last four checks and us failing its last three, interleaved (the
    # probe's own counters, over every location, only see the latest result: one failure)
    now = timezone.now()
    for m in range(4, 0, -1):
        at = now - timedelta(minutes=m)
        probe_results_record(outcomes=[outcome(probe, at=at)], location="eu")
        probe_results_record(outcomes=[outcome(probe, at=at + seconds(1), ok=m > 3)], location="us")

    # when a viewer opens the health page
    response = login(viewer).get(reverse("service-health", args=[service.name]))

    # then the probes table's Now column has each location's own run, in the probe's order
    html = response.content.decode()
    table = html[
        html.index('<table id="probes">') : html.index("</table>", html.index('id="probes"'))
    ]
    assert "eu: 4 ok" in table
    assert "us: 3 failing" in table
    assert "ap: not checked yet" in table
    assert table.index("eu: 4 ok") < table.index("us: 3 failing") < table.index("ap: not")
    assert "1 failing" not in table
