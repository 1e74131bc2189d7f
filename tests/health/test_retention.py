"""Retention prunes only rows past their age, in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from health.models import (
    LatencyPoint,
    ProbeResult,
    ProbeRollupDay,
    ProbeRollupHour,
    ProbeRollupMinute,
)
from health.services import retention_prune
from tests.factories import ServiceFactory
from tests.health.helpers import T0, make_probe

pytestmark = pytest.mark.django_db


def _ages(model, probe, column, days):
    model.objects.bulk_create(
        model(probe=probe, **{column: T0 - timedelta(days=d)}, **_fields(model)) for d in days
    )


def _fields(model):
    if model is ProbeResult:
        return {"ok": True, "latency_ms": 1.0}
    return {}


def test_it_prunes_each_kind_past_its_own_retention_and_keeps_the_rest():
    probe = make_probe(ServiceFactory())
    _ages(ProbeResult, probe, "checked_at", [0, 13.9, 14.1, 20, 20, 20, 20])
    _ages(ProbeRollupMinute, probe, "bucket_start", [1, 29.9, 30.1, 31, 90])
    _ages(ProbeRollupHour, probe, "bucket_start", [1, 100, 399, 401, 500])
    _ages(ProbeRollupDay, probe, "bucket_start", [1, 399, 401])

    for step, ages in (("hour", [1, 401]), ("day", [399, 401, 402])):
        LatencyPoint.objects.bulk_create(
            LatencyPoint(
                service=probe.service,
                step=step,
                bucket_start=T0 - timedelta(days=d),
                p50=1,
                p95=2,
                p99=3,
                samples=1,
                error=0.01,
            )
            for d in ages
        )

    deleted = retention_prune(now=T0, batch=2)

    assert deleted == {
        "results": 5,
        "minute_rollups": 3,
        "hour_rollups": 2,
        "day_rollups": 1,
        "hour_points": 1,
        "day_points": 2,
    }
    assert ProbeResult.objects.count() == 2
    assert ProbeRollupMinute.objects.count() == 2
    assert ProbeRollupHour.objects.count() == 3
    assert ProbeRollupDay.objects.count() == 2
    assert LatencyPoint.objects.count() == 2
    assert not ProbeResult.objects.filter(checked_at__lt=T0 - timedelta(days=14)).exists()


@override_settings(HEALTH_RESULTS_RETENTION_DAYS=1)
def test_retention_follows_the_settings():
    probe = make_probe(ServiceFactory())
    _ages(ProbeResult, probe, "checked_at", [0.5, 2])

    assert retention_prune(now=T0)["results"] == 1


@override_settings(HEALTH_DAY_ROLLUPS_RETENTION_DAYS=800)
def test_day_rollups_keep_their_own_retention():
    probe = make_probe(ServiceFactory())
    _ages(ProbeRollupDay, probe, "bucket_start", [401, 799, 801])

    assert retention_prune(now=T0)["day_rollups"] == 1
    assert ProbeRollupDay.objects.count() == 2
