"""Leases: a worker holds each deploy and run it works on for a short while, and renews it.

A claim (``deploy_claim``, ``run_claim``) writes who holds the row (``"host:pid"`` of the pool
process running the task) and until when (``now + LEASE_SECONDS``). While the chain runs, a
``LeaseKeeper`` thread renews every held row each ``LEASE_RENEW_SECONDS`` with a conditional
UPDATE: only a row that is still running and still held by this holder is renewed, so a row the
sweeper already marked lost (or an operator cancelled) is never revived. When the worker dies
(kill -9, OOM, a lost machine) nobody renews: the sweeper marks the row lost once its lease has
run out, well before its timeout.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Model
from django.utils import timezone

logger = logging.getLogger(__name__)


def lease_holder() -> str:
    """Who holds what this process claims: ``"<hostname>:<pid>"``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_host(holder: str) -> str:
    return holder.rsplit(":", 1)[0] if ":" in holder else ""


def holder_pid(holder: str) -> int | None:
    try:
        return int(holder.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


# A live run (runs.services.live) is held by the external CI job that streams its results, not by
# a worker: each results call renews it for this long, so a job that died is lost after it. The
# holder has a space, which no worker's "host:pid" has.
LIVE_HOLDER_PREFIX = "CI job of "
LIVE_LEASE_MINUTES = 10


def live_lease_fields(who: str, now: datetime | None = None) -> dict[str, Any]:
    """The lease fields of a live run streamed by `who`, running LIVE_LEASE_MINUTES from now."""
    now = now or timezone.now()
    return {
        "lease_holder": f"{LIVE_HOLDER_PREFIX}{who}"[:300],
        "lease_expires_at": now + timedelta(minutes=LIVE_LEASE_MINUTES),
    }


def is_live_holder(holder: str) -> bool:
    return holder.startswith(LIVE_HOLDER_PREFIX)


def lease_fields(now: datetime | None = None) -> dict[str, Any]:
    """The fields a claim writes: this process holds the row for LEASE_SECONDS from ``now``."""
    now = now or timezone.now()
    return {
        "lease_holder": lease_holder(),
        "lease_expires_at": now + timedelta(seconds=settings.LEASE_SECONDS),
    }


def lease_renew(model: type[Model], pk: int, *, holder: str, now: datetime | None = None) -> bool:
    """Extend the lease of row ``pk`` if it is still running and held by ``holder``."""
    now = now or timezone.now()
    return bool(
        model._default_manager.filter(pk=pk, status="running", lease_holder=holder).update(
            lease_expires_at=now + timedelta(seconds=settings.LEASE_SECONDS)
        )
    )


class LeaseKeeper:
    """A daemon thread that renews the leases of the rows this process holds, for the duration
    of a ``with`` block. Rows are added with ``hold`` as the chain claims them; a row that can no
    longer be renewed (lost, cancelled, finished) is dropped."""

    def __init__(self, *, every: float | None = None, holder: str | None = None) -> None:
        self.every = float(every if every is not None else settings.LEASE_RENEW_SECONDS)
        self.holder = holder or lease_holder()
        self._held: list[tuple[type[Model], int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    def hold(self, model: type[Model], pk: int) -> None:
        with self._lock:
            self._held.append((model, pk))

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # a renewal stuck on a lock must not hold up the chain

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.every):
                self.renew()
        finally:
            connection.close()  # this thread's own connection

    def renew(self) -> None:
        with self._lock:
            held = list(self._held)
        for model, pk in held:
            try:
                close_old_connections()
                renewed = lease_renew(model, pk, holder=self.holder)
            except Exception:  # a database hiccup: try again at the next tick
                logger.exception("could not renew the lease of %s %s", model.__name__, pk)
                continue
            if not renewed:  # it ended (the usual case), or the sweeper took it from us
                logger.info(
                    "%s %s is no longer running under this worker's lease; not renewed",
                    model.__name__,
                    pk,
                )
                with self._lock:
                    self._held.remove((model, pk))
