"""A probe location with no worker keeps only its current batches: dispatch drops the expired
ones from the location's queue (neither Redis nor the filesystem broker expires a message)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.celery import app
from health.tasks import probes_dispatch, probes_run_batch
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "probes.nowhere"


def waiting() -> list[dict]:
    """The headers of the messages in the queue, oldest first; they stay in the queue."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        _, count, _ = channel.queue_declare(QUEUE, passive=True)
        found = []
        messages = [channel.basic_get(QUEUE, no_ack=False) for _ in range(count)]
        for message in messages:
            found.append(message.headers)
        for message in reversed(messages):
            message.reject(requeue=True)
        return found


def purge() -> None:
    with app.connection_for_write() as connection:
        connection.default_channel.queue_declare(QUEUE)
        connection.default_channel.queue_purge(QUEUE)


@pytest.fixture
def clean_queue():
    purge()
    yield
    purge()


def test_dispatch_drops_the_expired_batches_of_a_location_without_a_worker(clean_queue):
    # given a probe run from a location no worker serves, and two batches sent to it long ago
    # that expired unread
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    probe = make_probe(service, locations=["nowhere"], next_probe_at=timezone.now())
    long_ago = timezone.now() - timedelta(minutes=5)
    for _ in range(2):
        probes_run_batch.apply_async(
            args=([probe.pk],),
            kwargs={"due_at": [long_ago.timestamp()], "location": "nowhere"},
            expires=long_ago + timedelta(seconds=60),
            queue=QUEUE,
        )
    assert len(waiting()) == 2

    # when the beat tick dispatches the probe again
    assert probes_dispatch() == 1

    # then only the new batch waits: the expired ones are gone
    (left,) = waiting()
    assert left["task"] == "health.tasks.probes_run_batch"
    assert left["expires"] > timezone.now().isoformat()


def test_dispatch_keeps_the_batches_that_are_still_current(clean_queue):
    # given a batch sent a moment ago for a probe due in a few seconds
    service = ServiceFactory(base_url="http://127.0.0.1:9")
    probe = make_probe(
        service, locations=["nowhere"], next_probe_at=timezone.now() + timedelta(seconds=2)
    )
    probes_run_batch.apply_async(
        args=([probe.pk],),
        kwargs={"due_at": [timezone.now().timestamp()], "location": "nowhere"},
        expires=timezone.now() + timedelta(seconds=60),
        queue=QUEUE,
    )

    # when the beat tick dispatches the probe
    assert probes_dispatch() == 1

    # then both batches wait for a worker
    assert len(waiting()) == 2
