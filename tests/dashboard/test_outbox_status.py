"""The overview's worker status says when messages for the workers wait for the broker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import Outbox
from runs.selectors.outbox import outbox_backlog

pytestmark = pytest.mark.django_db


def _unsent(run_id: int, *, age: timedelta, attempts: int = 0, error: str = "") -> Outbox:
    return Outbox.objects.create(
        task="runs.tasks.run_analyze",
        args=[run_id],
        key=f"runs.tasks.run_analyze:{run_id}",
        created_at=timezone.now() - age,
        attempts=attempts,
        last_error=error,
    )


def test_nothing_is_said_while_every_message_was_sent_or_is_its_senders_turn():
    _unsent(1, age=timedelta(seconds=1))  # written a moment ago, sent on commit any moment
    Outbox.objects.create(task="t", args=[2], key="t:2", sent_at=timezone.now())

    assert outbox_backlog().unsent == 0
    assert outbox_backlog().label == ""


def test_messages_a_send_failed_for_are_counted_with_the_oldest_and_the_last_error():
    _unsent(1, age=timedelta(minutes=12), attempts=3, error="OperationalError: refused")
    _unsent(2, age=timedelta(seconds=2), attempts=1, error="OperationalError: still refused")

    backlog = outbox_backlog()

    assert backlog.unsent == 2
    assert backlog.label.startswith(
        "2 messages for the workers wait for the broker (oldest 12 min ago)"
    )
    assert "Last error: OperationalError: still refused" in backlog.label


def test_the_overview_and_its_polled_partial_show_the_unsent_messages(client, viewer):
    _unsent(1, age=timedelta(minutes=3), attempts=2, error="OperationalError: refused")
    client.force_login(viewer)

    for url in ("/", "/worker-status"):
        page = client.get(url).content.decode()
        assert 'data-unsent="1"' in page, url
        assert "1 message for the workers waits for the broker" in page, url


def test_the_overview_says_nothing_of_the_outbox_when_it_is_empty(client, viewer):
    client.force_login(viewer)

    assert "outbox-unsent" not in client.get("/").content.decode()
