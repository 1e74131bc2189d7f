"""Maintenance windows: when they are open (daylight saving included), and probe checks during
one recorded but left out of rollup counts, uptime and incidents."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from health.maintenance import Spec, occurrences
from health.models import (
    Incident,
    MaintenanceWindow,
    ProbeResult,
    ProbeRollupHour,
    ProbeRollupMinute,
)
from health.selectors import service_uptime
from health.services import probe_results_record
from health.services.maintenance import maintenance_window_create, maintenance_window_update
from tests.factories import ServiceFactory
from tests.health.helpers import T0, make_probe, outcome, seconds

BERLIN = ZoneInfo("Europe/Berlin")


def _weekly(days, at, minutes) -> Spec:
    return Spec(kind="weekly", weekdays=days, local_start=at, duration_minutes=minutes)


def test_a_weekly_window_keeps_its_local_time_across_the_spring_change():
    # given Sundays at 03:00 Berlin for an hour; clocks went forward on Sunday 2026-03-29
    spec = _weekly([7], time(3, 0), 60)

    found = occurrences(
        spec,
        start=datetime(2026, 3, 21, tzinfo=UTC),
        end=datetime(2026, 4, 6, tzinfo=UTC),
        tz=BERLIN,
    )

    # then 03:00 CET (02:00 UTC) before the change, 03:00 CEST (01:00 UTC) on and after it
    assert [(o.start, o.end) for o in found] == [
        (datetime(2026, 3, 22, 2, 0, tzinfo=UTC), datetime(2026, 3, 22, 3, 0, tzinfo=UTC)),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
        (datetime(2026, 4, 5, 1, 0, tzinfo=UTC), datetime(2026, 4, 5, 2, 0, tzinfo=UTC)),
    ]


def test_a_weekly_window_keeps_its_local_time_across_the_autumn_change():
    # clocks went back on Sunday 2026-10-25 at 03:00 CEST; 02:30 happened twice that night
    spec = _weekly([7], time(2, 30), 90)
    found = occurrences(
        spec,
        start=datetime(2026, 10, 18, 3, 0, tzinfo=UTC),
        end=datetime(2026, 11, 2, tzinfo=UTC),
        tz=BERLIN,
    )
    assert [o.start for o in found] == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the first 02:30 (CEST)
        datetime(2026, 11, 1, 1, 30, tzinfo=UTC),  # 02:30 CET
    ]
    # the duration is elapsed time, also across the repeated hour
    assert all(o.end - o.start == timedelta(minutes=90) for o in found)


def test_a_start_time_the_clocks_skip_begins_at_the_old_offsets_instant():
    # 02:30 does not exist in Berlin on 2026-03-29: 02:30 CET is 01:30 UTC (03:30 CEST)
    found = occurrences(
        _weekly([7], time(2, 30), 30),
        start=datetime(2026, 3, 29, tzinfo=UTC),
        end=datetime(2026, 3, 30, tzinfo=UTC),
        tz=BERLIN,
    )
    assert [o.start for o in found] == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]


def test_a_window_open_over_midnight_is_found_from_the_next_day():
    found = occurrences(
        _weekly([1], time(23, 0), 120),  # Monday 23:00 to Tuesday 01:00 Berlin (CET in March)
        start=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),  # Tuesday 00:30 CET
        end=datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
        tz=BERLIN,
    )
    assert [(o.start, o.end) for o in found] == [
        (datetime(2026, 3, 2, 22, 0, tzinfo=UTC), datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    ]
    # 00:00 UTC is the end: not inside (the end is exclusive)
    assert not found[0].covers(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))


@pytest.mark.django_db
class TestRefusingBadInput:
    def _service(self):
        return ServiceFactory()

    def test_an_end_before_the_start_is_refused_with_a_sentence(self):
        service = self._service()
        with pytest.raises(ValidationError) as caught:
            maintenance_window_create(
                service_id=service.pk, kind="once", starts_at=T0, ends_at=T0 - seconds(60)
            )
        assert "The end must come after the start" in caught.value.messages[0]
        assert not MaintenanceWindow.objects.exists()

    def test_an_end_equal_to_the_start_is_refused(self):
        with pytest.raises(ValidationError):
            maintenance_window_create(
                service_id=self._service().pk, kind="once", starts_at=T0, ends_at=T0
            )
        assert not MaintenanceWindow.objects.exists()

    def test_a_zero_duration_and_no_weekday_are_refused_together(self):
        with pytest.raises(ValidationError) as caught:
            maintenance_window_create(
                service_id=self._service().pk,
                kind="weekly",
                weekdays=[],
                local_start=time(3, 0),
                duration_minutes=0,
            )
        assert caught.value.messages == [
            "Choose at least one weekday for a weekly window.",
            "The duration must be at least one minute.",
        ]
        assert not MaintenanceWindow.objects.exists()

    def test_a_bad_update_leaves_the_window_as_it_was(self):
        window = maintenance_window_create(
            service_id=self._service().pk, kind="once", starts_at=T0, ends_at=T0 + seconds(600)
        )
        with pytest.raises(ValidationError):
            maintenance_window_update(
                window=window, kind="weekly", weekdays=[8], local_start=time(1), duration_minutes=5
            )
        window.refresh_from_db()
        assert (window.kind, window.ends_at) == ("once", T0 + seconds(600))


@pytest.fixture
def probe(db):
    service = ServiceFactory()
    return make_probe(service, failures_before_incident=3, successes_to_close=2)


def _window(probe, start_s: float, end_s: float) -> MaintenanceWindow:
    return maintenance_window_create(
        service_id=probe.service_id,
        kind="once",
        starts_at=T0 + seconds(start_s),
        ends_at=T0 + seconds(end_s),
        reason="database upgrade",
    )


def _record(probe, *oks, start=0):
    for i, ok in enumerate(oks):
        probe_results_record(outcomes=[outcome(probe, at=T0 + seconds(10 * (start + i)), ok=ok)])


def test_checks_in_a_window_are_recorded_flagged_and_counted_apart_in_rollups(probe):
    # given a window over the 3rd to 5th checks (20 s to 50 s)
    _window(probe, 20, 50)

    # when six checks arrive, the three inside the window failing
    _record(probe, True, True, False, False, False, True)

    # then every result is kept, flagged in the window
    flags = list(ProbeResult.objects.order_by("checked_at").values_list("in_maintenance", "ok"))
    assert flags == [
        (False, True),
        (False, True),
        (True, False),
        (True, False),
        (True, False),
        (False, True),
    ]
    # and the rollups count them only in maintenance_count
    for model in (ProbeRollupMinute, ProbeRollupHour):
        row = model.objects.get()
        assert (row.count, row.ok_count, row.maintenance_count) == (3, 3, 3), model
        # latency figures are of the counted checks only
        assert sum(row.sketch.values()) == 3


def test_uptime_leaves_maintenance_out(probe):
    _window(probe, 0, 600)
    now = T0 + seconds(3600)
    # 60 failures inside the window, then 120 successes outside it
    probe_results_record(
        outcomes=[outcome(probe, at=T0 + seconds(10 * i), ok=False) for i in range(60)]
    )
    probe_results_record(
        outcomes=[outcome(probe, at=T0 + seconds(600 + 10 * i)) for i in range(120)]
    )

    uptime = service_uptime(service_id=probe.service_id, now=now)

    assert (uptime.day.ok, uptime.day.checks) == (120, 120)
    assert uptime.day.text == "100.00 %"
    assert (uptime.month.ok, uptime.month.checks) == (120, 120)


def test_failures_in_a_window_open_no_incident(probe):
    _window(probe, 0, 100)
    _record(probe, *[False] * 10)
    assert not Incident.objects.exists()
    probe.refresh_from_db()
    assert probe.consecutive_failures == 0


def test_a_run_of_failures_is_not_advanced_by_failures_in_a_window(probe):
    # given two failures before a window, failures during it, then one after it
    _window(probe, 20, 60)
    _record(probe, False, False, False, False, False, False)  # 0 s .. 50 s
    assert not Incident.objects.exists()
    probe.refresh_from_db()
    assert probe.consecutive_failures == 2

    # when the first failure after the window arrives, the run is three long
    _record(probe, False, start=6)

    # then the incident opens from the first failure of the run, not from one in the window
    incident = Incident.objects.get()
    assert incident.opened_at == T0


def test_an_open_incident_stays_open_through_a_window_and_closes_after_it(probe):
    _record(probe, False, False, False)
    incident = Incident.objects.get()
    _window(probe, 30, 80)

    # successes during the window do not close it
    _record(probe, True, True, True, True, True, start=3)
    incident.refresh_from_db()
    assert incident.closed_at is None

    # two successes after the window do, from the first of them
    _record(probe, True, True, start=8)
    incident.refresh_from_db()
    assert incident.closed_at == T0 + seconds(80)


@pytest.mark.django_db
@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_weekly_window_excludes_checks_at_its_local_time_after_the_spring_change():
    service = ServiceFactory()
    probe = make_probe(service)
    maintenance_window_create(
        service_id=service.pk,
        kind="weekly",
        weekdays=[7],
        local_start=time(3, 0),
        duration_minutes=30,
    )
    before = datetime(2026, 3, 22, 2, 10, tzinfo=UTC)  # 03:10 CET: inside
    after = datetime(2026, 3, 29, 1, 10, tzinfo=UTC)  # 03:10 CEST: inside
    outside = datetime(2026, 3, 29, 2, 10, tzinfo=UTC)  # 04:10 CEST: outside
    probe_results_record(outcomes=[outcome(probe, at=at) for at in (before, after, outside)])
    flags = dict(ProbeResult.objects.values_list("checked_at", "in_maintenance"))
    assert flags == {before: True, after: True, outside: False}
