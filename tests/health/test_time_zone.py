"""Daily uptime bars follow the configured time zone, daylight-saving changes included."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.test import override_settings

from health.models import ProbeRollupHour
from health.selectors import uptime_by_day
from health.services.rollups import day_rollups_refresh
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe

ROOT = Path(__file__).resolve().parents[2]


def hourly_rollups(probe, first: datetime, last: datetime) -> None:
    """One hour rollup of 100 checks (one failed) for every UTC hour from first to last, and
    the local days' rollups merged from them (as the rollup pass writes them)."""
    hours = int((last - first).total_seconds() // 3600) + 1
    ProbeRollupHour.objects.bulk_create(
        [
            ProbeRollupHour(
                probe=probe,
                bucket_start=first + timedelta(hours=h),
                count=100,
                ok_count=99,
                latency_sum=0,
            )
            for h in range(hours)
        ]
    )
    day_rollups_refresh(since=None)


@pytest.mark.django_db
@override_settings(TIME_ZONE="Europe/Berlin")
@pytest.mark.parametrize(
    ("change", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25)],
    ids=["spring-forward", "fall-back"],
)
def test_a_day_of_the_daylight_saving_change_has_its_own_number_of_hours(change, hours):
    # given a probe checked every UTC hour for days around a daylight-saving change in Berlin
    probe = make_probe(ServiceFactory())
    hourly_rollups(
        probe,
        datetime.combine(change - timedelta(days=3), datetime.min.time(), tzinfo=UTC),
        datetime.combine(change + timedelta(days=3), datetime.min.time(), tzinfo=UTC),
    )

    # when the bars of the days around it are read (the last one is "today" in Berlin)
    now = datetime.combine(change + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    days = uptime_by_day(service_id=probe.service_id, now=now, days=4)

    # then each bar is a Berlin day: 24 hours, and 23 or 25 on the day of the change
    assert [d.day for d in days] == [change + timedelta(days=n) for n in (-1, 0, 1, 2)]
    assert [d.checks for d in days] == [2400, hours * 100, 2400, 2400]
    assert all(d.uptime == pytest.approx(0.99) for d in days)


@pytest.mark.django_db
def test_without_a_configured_zone_days_are_utc_days():
    probe = make_probe(ServiceFactory())
    hourly_rollups(
        probe, datetime(2026, 3, 28, 0, tzinfo=UTC), datetime(2026, 3, 30, 23, tzinfo=UTC)
    )

    days = uptime_by_day(
        service_id=probe.service_id, now=datetime(2026, 3, 30, 12, tzinfo=UTC), days=3
    )

    assert [d.checks for d in days] == [2400, 2400, 2400]


def _setting(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.TIME_ZONE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "dashboard.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_zone_comes_from_stageloop_time_zone_and_a_wrong_name_stops_the_start():
    assert _setting({"STAGELOOP_TIME_ZONE": "Europe/Berlin"}).stdout.strip() == "Europe/Berlin"

    wrong = _setting({"STAGELOOP_TIME_ZONE": "Mars/Olympus_Mons"})

    assert wrong.returncode != 0
    assert "Incorrect timezone setting: Mars/Olympus_Mons" in wrong.stderr
