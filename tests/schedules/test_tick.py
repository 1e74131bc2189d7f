"""The beat's tick in simulated time: what it starts, what it skips and records, and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Outbox, Revision, ScheduleSkip, Suite, TestRun
from runs.services import enqueue
from runs.services.schedules import _claim, schedules_tick, suite_schedule_set
from tests.schedules.conftest import Monitor

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def scheduled(monitor: Monitor, every: int = 5) -> Suite:
    return suite_schedule_set(
        suite_id=monitor.suite.pk, every_minutes=str(every), enabled=True, now=T0
    )


def finish(run_id: int) -> None:
    TestRun.objects.filter(pk=run_id).update(status=TestRun.Status.PASSED, finished_at=T0)


def test_a_new_schedule_starts_a_scheduled_run_of_the_current_revision_at_the_next_tick(monitor):
    scheduled(monitor)

    tick = schedules_tick(now=T0 + timedelta(seconds=20))

    run = TestRun.objects.get(pk__in=tick.started)
    assert (run.suite, run.revision, run.trigger, run.status) == (
        monitor.suite,
        monitor.suite.service.current_revision,
        "scheduled",
        TestRun.Status.QUEUED,
    )
    assert list(Outbox.objects.values_list("task", "args")) == [(enqueue.REVISION_TEST, [run.pk])]
    assert Suite.objects.get(pk=monitor.suite.pk).schedule_next_at == minutes(5)
    assert ScheduleSkip.objects.count() == 0


def test_nothing_starts_before_the_next_occurrence_is_due(monitor):
    scheduled(monitor)
    first = schedules_tick(now=T0).started
    finish(first[0])

    assert schedules_tick(now=minutes(4.9)).started == []
    assert len(schedules_tick(now=minutes(5)).started) == 1
    assert TestRun.objects.filter(trigger="scheduled").count() == 2


def test_an_occurrence_due_while_the_last_run_still_goes_is_skipped_and_recorded(monitor):
    scheduled(monitor)
    [going] = schedules_tick(now=T0).started
    TestRun.objects.filter(pk=going).update(status=TestRun.Status.RUNNING, started_at=T0)

    tick = schedules_tick(now=minutes(5))

    assert tick.started == []
    skip = ScheduleSkip.objects.get()
    assert (skip.reason, skip.due_at, skip.missed, skip.active_run_id) == (
        "overlap",
        minutes(5),
        1,
        going,
    )
    assert f"run #{going} (scheduled," in skip.detail and "was still running" in skip.detail
    # The occurrence after it starts once the run is done.
    finish(going)
    assert len(schedules_tick(now=minutes(10)).started) == 1


def test_any_active_run_of_the_suite_blocks_a_scheduled_one(monitor):
    scheduled(monitor)
    deploying = TestRun.objects.create(
        suite=monitor.suite, service=monitor.suite.service, trigger=TestRun.Trigger.DEPLOY
    )

    assert schedules_tick(now=T0).started == []

    skip = ScheduleSkip.objects.get()
    assert skip.active_run_id == deploying.pk
    assert "(deploy and test," in skip.detail and "was still queued" in skip.detail


def test_a_service_without_a_current_revision_is_skipped_with_that_reason(monitor):
    service = monitor.suite.service
    service.current_revision = None
    service.save()
    scheduled(monitor)

    assert schedules_tick(now=T0).started == []

    skip = ScheduleSkip.objects.get()
    assert skip.reason == "no_revision"
    assert "has no current revision" in skip.detail
    assert Suite.objects.get(pk=monitor.suite.pk).schedule_next_at == minutes(5)


def test_a_current_revision_that_is_not_ready_is_skipped_with_its_status(monitor):
    Revision.objects.filter(pk=monitor.suite.service.current_revision_id).update(
        status=Revision.Status.RETIRED
    )
    scheduled(monitor)

    assert schedules_tick(now=T0).started == []
    assert "its current revision checkout-00001 is retired" in ScheduleSkip.objects.get().detail


def test_a_beat_down_for_an_hour_starts_one_run_and_records_the_missed_occurrences(monitor):
    scheduled(monitor)
    finish(schedules_tick(now=T0).started[0])

    # Nothing ticked from T0 + 5 min to T0 + 60 min: twelve occurrences went by.
    tick = schedules_tick(now=minutes(60.5))

    assert len(tick.started) == 1
    skip = ScheduleSkip.objects.get()
    assert (skip.reason, skip.due_at, skip.missed) == ("missed", minutes(5), 11)
    assert "Missed 11 occurrences" in skip.detail and "one run started" in skip.detail
    # Back on the grid: the next occurrence is the one after the tick.
    assert Suite.objects.get(pk=monitor.suite.pk).schedule_next_at == minutes(65)


def test_missed_occurrences_while_a_run_still_goes_make_one_overlap_row(monitor):
    scheduled(monitor)
    schedules_tick(now=T0)

    schedules_tick(now=minutes(31))

    skip = ScheduleSkip.objects.get()
    assert (skip.reason, skip.missed) == ("overlap", 6)
    assert skip.detail.startswith("Skipped 6 occurrences")


def test_a_late_tick_keeps_the_schedule_on_its_grid(monitor):
    scheduled(monitor)
    finish(schedules_tick(now=minutes(0.9)).started[0])

    assert Suite.objects.get(pk=monitor.suite.pk).schedule_next_at == minutes(5)
    assert ScheduleSkip.objects.count() == 0


def test_an_occurrence_is_claimed_once_by_two_ticks_that_saw_it_due(monitor):
    scheduled(monitor)

    first = _claim(suite_id=monitor.suite.pk, due_at=T0, minutes=5, now=T0)
    second = _claim(suite_id=monitor.suite.pk, due_at=T0, minutes=5, now=T0)

    assert first is not None and second is None
    assert schedules_tick(now=T0).started == []


def test_a_paused_schedule_starts_nothing_and_resuming_is_due_at_once(monitor):
    scheduled(monitor)
    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="5", enabled=False, now=T0)

    assert schedules_tick(now=minutes(30)).started == []
    assert ScheduleSkip.objects.count() == 0

    suite_schedule_set(suite_id=monitor.suite.pk, every_minutes="", enabled=True, now=minutes(31))
    assert len(schedules_tick(now=minutes(31)).started) == 1


def test_a_scheduled_run_left_queued_is_sent_again_through_the_outbox(monitor):
    scheduled(monitor)
    [run_id] = schedules_tick(now=T0).started
    long_ago = timezone.now() - timedelta(minutes=10)
    TestRun.objects.filter(pk=run_id).update(created_at=long_ago)
    Outbox.objects.update(sent_at=long_ago)

    tick = schedules_tick(now=timezone.now())

    assert tick.resent == [run_id]
    assert Outbox.objects.filter(task=enqueue.REVISION_TEST, sent_at__isnull=True).count() == 1
    # Once, not at every tick while the new message is fresh.
    assert schedules_tick(now=timezone.now()).resent == []


def test_an_idle_tick_is_two_queries(monitor, django_assert_max_num_queries):
    scheduled(monitor)
    finish(schedules_tick(now=T0).started[0])

    with django_assert_max_num_queries(2):
        schedules_tick(now=minutes(1))


def test_occurrences_no_tick_took_while_a_run_went_are_recorded_as_overlaps_with_it(monitor):
    scheduled(monitor)
    [going] = schedules_tick(now=T0).started
    # Every worker was busy: no tick ran until the run ended at T0 + 11 min, nor for a while after.
    TestRun.objects.filter(pk=going).update(
        status=TestRun.Status.PASSED, created_at=T0, started_at=T0, finished_at=minutes(11)
    )

    tick = schedules_tick(now=minutes(21))

    assert len(tick.started) == 1
    overlap, missed = ScheduleSkip.objects.order_by("pk")
    # T0+5 and T0+10 were due while it went; T0+15 after it ended; T0+20 starts now.
    assert (overlap.reason, overlap.due_at, overlap.missed, overlap.active_run_id) == (
        "overlap",
        minutes(5),
        2,
        going,
    )
    assert f"run #{going} (scheduled) was still going until" in overlap.detail
    assert (missed.reason, missed.due_at, missed.missed) == ("missed", minutes(15), 1)


def test_a_run_overrunning_many_occurrences_is_one_skip_whose_count_grows(monitor):
    scheduled(monitor)
    [going] = schedules_tick(now=T0).started

    for m in (5, 10, 15):
        schedules_tick(now=minutes(m))

    skip = ScheduleSkip.objects.get()
    assert (skip.reason, skip.due_at, skip.missed, skip.recorded_at) == (
        "overlap",
        minutes(5),
        3,
        minutes(15),
    )
    assert skip.detail.startswith(f"Skipped 3 occurrences: run #{going} (scheduled,")


def test_a_new_stretch_without_a_revision_after_a_run_is_a_new_skip(monitor):
    service = monitor.suite.service
    ready = service.current_revision
    service.current_revision = None
    service.save()
    scheduled(monitor)
    schedules_tick(now=T0)
    schedules_tick(now=minutes(5))
    service.current_revision = ready
    service.save()
    finish(schedules_tick(now=minutes(10)).started[0])
    service.current_revision = None
    service.save()

    schedules_tick(now=minutes(15))

    assert list(ScheduleSkip.objects.order_by("pk").values_list("reason", "due_at", "missed")) == [
        ("no_revision", T0, 2),
        ("no_revision", minutes(15), 1),
    ]
