"""Probe locations: which Celery queue serves a location, and which location this worker is.

A worker names its location with ``STAGELOOP_PROBE_LOCATION`` and consumes that location's queue
(``celery -A dashboard worker -Q probes.eu``). The default location is served from Celery's
default queue, so a single worker (and ``make run``) probes everything as before.
"""

from __future__ import annotations

from django.conf import settings

from health.models import DEFAULT_LOCATION

QUEUE_PREFIX = "probes."


def location_queue(label: str) -> str | None:
    """The queue of ``label``'s workers, or None for the default location (the default queue)."""
    return None if label == DEFAULT_LOCATION else QUEUE_PREFIX + label


def location_here() -> str:
    """The location label of this worker (``STAGELOOP_PROBE_LOCATION``)."""
    return str(getattr(settings, "HEALTH_PROBE_LOCATION", DEFAULT_LOCATION))
