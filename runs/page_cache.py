"""Cached page fragments, invalidated by data generations that the writing services bump.

A fragment (a page's charts and the tables beside them) is stored under a key that holds the
current *generation* of the data it shows: a random token kept in the cache per service (its
runs, results and revisions) and one for pages over all services. A service that records a run
calls `generation_bump`, which replaces both tokens once its transaction commits: every fragment
built before is never read again (it expires), and the next request builds it from the new data.
So a page never shows data older than the last committed write, however long a fragment lives.

Per service rather than one global token: 20 CI pipelines uploading to one service must not
throw away the cached suite and test pages of every other service each second.

The tokens are random, not counters: two bumps never give the same token (no lost increment on
caches without an atomic incr), and a token that was evicted is replaced by a new one.
The cache is settings.CACHES["default"]: Redis in production (CACHE_URL), a file cache under
STAGELOOP_VAR_DIR in embedded mode (web, worker and beat are separate processes and must see
each other's bumps), local memory in tests. STAGELOOP_PAGE_CACHE=0 turns fragment caching off.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from runs.time_range import TimeRange

log = logging.getLogger(__name__)

T = TypeVar("T")

ALL_SERVICES = "all"
FRAGMENT_SECONDS = 600
# A generation token lives long; one evicted or expired is replaced: a miss, never stale data.
GENERATION_SECONDS = 7 * 24 * 3600
STATS_KEYS = ("page-cache:hits", "page-cache:misses")
_MISSING = object()


def _generation_key(scope: str) -> str:
    return f"page-gen:{scope}"


def _scope(service_id: int | None) -> str:
    return ALL_SERVICES if service_id is None else f"service:{service_id}"


def generation(*, service_id: int | None = None) -> str:
    """The current generation token of one service's pages (or of pages over all services)."""
    key = _generation_key(_scope(service_id))
    token = cache.get(key)
    if token is None:
        cache.add(key, secrets.token_hex(8), GENERATION_SECONDS)
        token = cache.get(key)
    return str(token)


def generation_bump(*, service_id: int | None = None) -> None:
    """Give the service's pages, and the pages over all services, a new generation once the
    current transaction commits (at once outside a transaction).

    After the commit, not before: a request that read the new token must also read the new rows.
    """
    scopes = [ALL_SERVICES] if service_id is None else [ALL_SERVICES, _scope(service_id)]

    def bump() -> None:
        try:
            cache.set_many(
                {_generation_key(s): secrets.token_hex(8) for s in scopes}, GENERATION_SECONDS
            )
        except Exception:
            log.exception("Page cache: could not bump the generation of %s", scopes)

    transaction.on_commit(bump)


def span_part(span: TimeRange) -> str:
    """A time range as a key part. A preset range ends now: it is keyed to the minute, so a
    chart's axis is at most a minute behind (its data never is: new runs bump the generation)."""
    if span.key:
        return f"{span.key}@{int(span.end.timestamp()) // 60}"
    return f"{span.start.isoformat()}/{span.end.isoformat()}"


def _part(value: object) -> str:
    if isinstance(value, TimeRange):
        return span_part(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def fragment(name: str, *parts: object, service_id: int | None, build: Callable[[], T]) -> T:
    """The value `build()` returns for this fragment of `service_id`'s pages (None: pages over
    all services), from the cache when the data it shows has not changed since it was built.

    `parts` are everything else the value depends on (ids, time range, filters).
    """
    if not settings.PAGE_CACHE:
        return build()
    try:
        digest = hashlib.sha256("\x1f".join(_part(p) for p in parts).encode()).hexdigest()[:32]
        key = f"page-frag:{name}:{generation(service_id=service_id)}:{digest}"
        value = cache.get(key, _MISSING)
    except Exception:  # the cache is down: serve the page uncached rather than fail it
        log.exception("Page cache: could not read fragment %s", name)
        return build()
    _count(hit=value is not _MISSING)
    if value is not _MISSING:
        return value
    value = build()
    try:
        cache.set(key, value, FRAGMENT_SECONDS)
    except Exception:
        log.exception("Page cache: could not store fragment %s", name)
    return value


def _count(*, hit: bool) -> None:
    if not settings.PAGE_CACHE_STATS:
        return
    key = STATS_KEYS[0 if hit else 1]
    try:
        cache.incr(key)
    except ValueError:
        cache.add(key, 0, None)
        cache.incr(key)


def stats_read() -> tuple[int, int]:
    """Fragment hits and misses counted since `stats_reset` (with STAGELOOP_PAGE_CACHE_STATS=1)."""
    found = cache.get_many(list(STATS_KEYS))
    return int(found.get(STATS_KEYS[0], 0)), int(found.get(STATS_KEYS[1], 0))


def stats_reset() -> None:
    cache.set_many(dict.fromkeys(STATS_KEYS, 0), None)
