"""The uptime-per-day chart shades the bars of the days a maintenance window touches (days of
the configured time zone, daylight-saving changes included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from health.charts import add_maintenance_day_bands, uptime_figure
from health.maintenance import Occurrence
from health.selectors import UptimeDay
from health.selectors import uptime_figure as figure_of

BERLIN = ZoneInfo("Europe/Berlin")


def _chart(first: date, days: int) -> dict:
    return uptime_figure(
        [UptimeDay(day=first + timedelta(days=n), figure=figure_of(100, 100)) for n in range(days)]
    )


def _bands(figure: dict) -> list[tuple[datetime, datetime]]:
    return [
        (s["x0"], s["x1"]) for s in figure["layout"]["shapes"] if s.get("name") == "maintenance"
    ]


def _noon_before(day: date) -> datetime:
    return datetime(day.year, day.month, day.day) - timedelta(hours=12)


def _noon_after(day: date) -> datetime:
    return datetime(day.year, day.month, day.day) + timedelta(hours=12)


@override_settings(TIME_ZONE="Europe/Berlin")
def test_an_evening_window_shades_its_own_days_bar_not_the_next_one():
    figure = _chart(date(2026, 11, 1), 30)
    evening = datetime(2026, 11, 10, 20, 0, tzinfo=BERLIN)

    add_maintenance_day_bands(figure, [Occurrence(evening, evening + timedelta(minutes=30))])

    assert _bands(figure) == [(_noon_before(date(2026, 11, 10)), _noon_after(date(2026, 11, 10)))]


@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_window_over_the_night_of_the_dst_change_shades_both_days_as_one_band():
    # clocks went back at 03:00 on 25 October 2026: 23:00 on the 24th to 04:00 on the 25th is
    # six hours long and touches two local days
    figure = _chart(date(2026, 10, 1), 30)
    start = datetime(2026, 10, 24, 23, 0, tzinfo=BERLIN)
    end = datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=6)

    add_maintenance_day_bands(figure, [Occurrence(start, end)])

    assert _bands(figure) == [(_noon_before(date(2026, 10, 24)), _noon_after(date(2026, 10, 25)))]


@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_window_ending_at_midnight_does_not_shade_the_next_day():
    figure = _chart(date(2026, 11, 1), 30)
    start = datetime(2026, 11, 10, 23, 0, tzinfo=BERLIN)

    add_maintenance_day_bands(figure, [Occurrence(start, start + timedelta(hours=1))])

    assert _bands(figure) == [(_noon_before(date(2026, 11, 10)), _noon_after(date(2026, 11, 10)))]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_weekly_windows_are_one_band_per_day_behind_the_bars(zone):
    with override_settings(TIME_ZONE=zone):
        tz = ZoneInfo(zone)
        figure = _chart(date(2026, 11, 1), 30)
        sundays = [datetime(2026, 11, d, 3, 0, tzinfo=tz) for d in (1, 8, 15, 22, 29)]

        add_maintenance_day_bands(
            figure, [Occurrence(s, s + timedelta(minutes=30)) for s in sundays]
        )

        assert _bands(figure) == [(_noon_before(s.date()), _noon_after(s.date())) for s in sundays]
        assert all(s["layer"] == "below" for s in figure["layout"]["shapes"])
