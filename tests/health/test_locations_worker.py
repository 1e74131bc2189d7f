"""A real worker of one location takes only its location's batches (its own queue) and records
its location on the results."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from dashboard.celery import app
from health.models import ProbeResult
from health.tasks import probes_dispatch
from tests.factories import ServiceFactory
from tests.health.helpers import make_probe

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUEUES = ("celery", "probes.eu")


def purge() -> None:
    with app.connection_for_write() as connection:
        for queue in QUEUES:
            connection.default_channel.queue_purge(queue)


def test_a_worker_of_location_eu_runs_the_eu_batch_and_not_the_default_one(server, settings):
    # given a probe run from eu and from the default location, due now, and one worker of eu
    settings.HEALTH_PROBE_LOCATION = "eu"
    service = ServiceFactory(base_url=server.base_url)
    probe = make_probe(
        service, path="/ok", locations=["default", "eu"], next_probe_at=timezone.now()
    )
    purge()
    try:
        with start_worker(
            app, pool="solo", queues=["probes.eu"], perform_ping_check=False, shutdown_timeout=30
        ):
            # when the beat tick dispatches it
            assert probes_dispatch() == 1
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not ProbeResult.objects.exists():
                time.sleep(0.2)
            time.sleep(1)  # room for a wrong second result to show up

        # then the eu worker probed it once, as eu; the default batch waits in its own queue
        result = ProbeResult.objects.get()
        assert (result.probe_id, result.location, result.ok) == (probe.pk, "eu", True)
        with app.connection_for_write() as connection:
            _, waiting, _ = connection.default_channel.queue_declare("celery", passive=True)
        assert waiting == 1
    finally:
        purge()
        # A worker started with queues selects them on the app's shared queue table
        # (WorkController.setup_queues), and nothing selects them back: every in-process worker
        # a later test starts would consume probes.eu only. Give the app a fresh table.
        app.amqp.queues = app.amqp.Queues(app.conf.task_queues)
