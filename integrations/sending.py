"""Sending webhook deliveries concurrently: one ``httpx.AsyncClient`` per batch, every request
bounded by its timeouts, every failure an outcome (never an exception).

Pure Python, no Django: the task claims rows, turns them into ``Outgoing`` items, calls
``deliveries_post`` and records the ``Sent`` outcomes.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpcore
import httpx

from integrations.retry_after import retry_after_seconds
from integrations.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature
from integrations.urlguard import GuardedBackend, UrlRefused

EXCERPT_BYTES = 1024
_USER_AGENT = "Stageloop-Webhooks/1"


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    delivery_uuid: str
    kind: str
    url: str
    secret: str
    body: str
    # The previous secret while a rotation's grace period lasts: signed with it too.
    old_secret: str = ""


@dataclass(frozen=True)
class Sent:
    """How one attempt went. ``retry`` says whether a later attempt may succeed;
    ``retry_after`` the seconds a 429 or 503 asked to wait (None: not said)."""

    delivery_id: int
    ok: bool
    retry: bool
    status_code: int | None
    response_ms: int
    excerpt: str
    error: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    total: float = 10.0


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every batch (building one reads the CA bundle: tens of ms)."""
    return httpx.create_ssl_context()


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool whose connections pass the SSRF guard."""

    def __init__(self, *, allow_private: bool, concurrency: int) -> None:
        super().__init__(retries=0)
        # No keep-alive: as for probes, httpcore's pool degrades when many requests compete for
        # idle connections (encode/httpcore#1035), and a delivery pays for one connect at most.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=concurrency,
            max_keepalive_connections=0,
            network_backend=GuardedBackend(allow_private=allow_private),
        )


async def _post(client: httpx.AsyncClient, item: Outgoing, timeouts: Timeouts) -> Sent:
    started = time.perf_counter()
    body = item.body.encode()
    stamp = int(time.time())
    signed = signature(secret=item.secret, body=body, timestamp=stamp)
    if item.old_secret:  # Stripe's way: one v1 per valid secret, receivers accept any
        signed += (
            ",v1="
            + signature(secret=item.old_secret, body=body, timestamp=stamp).split("v1=", 1)[1]
        )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        EVENT_HEADER: item.kind,
        DELIVERY_HEADER: item.delivery_uuid,
        SIGNATURE_HEADER: signed,
    }
    status: int | None = None
    wait: float | None = None
    try:
        # httpx's timeouts apply per operation; the outer deadline caps the whole exchange, so a
        # receiver that trickles its answer byte by byte is cut off at the total too.
        async with asyncio.timeout(timeouts.total):
            async with client.stream(
                "POST",
                item.url,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(timeouts.total, connect=timeouts.connect),
            ) as response:
                status = response.status_code
                if status in (429, 503):
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                excerpt = await _read_excerpt(response)
    except Exception as exc:  # one bad receiver must not lose the other outcomes
        retry, error = _classify(exc, timeouts)
        return Sent(item.delivery_id, False, retry, status, _ms(started), "", error[:500])
    ms = _ms(started)
    if 200 <= status < 300:
        return Sent(item.delivery_id, True, False, status, ms, excerpt, "")
    retry = status >= 500 or status in (408, 429)
    if 300 <= status < 400:
        error = (
            f"The receiver answered {status} (a redirect); webhooks do not follow redirects: "
            "save the final URL."
        )
    elif wait is not None:
        error = f"The receiver answered {status} and asked to wait {wait:g} s; Stageloop does."
    elif retry:
        error = f"The receiver answered {status}; Stageloop tries again later."
    else:
        error = f"The receiver answered {status}, which refuses the delivery: no retry."
    return Sent(item.delivery_id, False, retry, status, ms, excerpt, error, wait)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


async def _read_excerpt(response: httpx.Response) -> str:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= EXCERPT_BYTES:
            break
    return data[:EXCERPT_BYTES].decode(response.encoding or "utf-8", errors="replace")[
        :EXCERPT_BYTES
    ]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def _classify(exc: BaseException, timeouts: Timeouts) -> tuple[bool, str]:
    """(retry, sentence) for a request that raised."""
    refused = next((c for c in _causes(exc) if isinstance(c, UrlRefused)), None)
    if refused is not None:
        return False, f"Not sent: {refused}."
    if isinstance(exc, httpx.ConnectTimeout):
        return True, f"No connection within {timeouts.connect:g} s; Stageloop tries again later."
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return True, (
            f"No complete answer within {timeouts.total:g} s; Stageloop tries again later."
        )
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return False, f"The URL is not valid ({exc}); fix it on the webhook."
    if isinstance(exc, httpx.TransportError):
        return (
            True,
            f"Could not reach the receiver ({type(exc).__name__}: {exc}); "
            "Stageloop tries again later.",
        )
    return True, f"Sending failed ({type(exc).__name__}: {exc}); Stageloop tries again later."


async def deliveries_post_async(
    items: Sequence[Outgoing], *, allow_private: bool, concurrency: int, timeouts: Timeouts
) -> list[Sent]:
    """POST every item, at most ``concurrency`` at a time; outcomes in the order given."""
    if not items:
        return []
    gate = asyncio.Semaphore(concurrency)
    transport = _GuardedTransport(allow_private=allow_private, concurrency=concurrency)

    async def bounded(item: Outgoing) -> Sent:
        async with gate:
            return await _post(client, item, timeouts)

    async with httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False
    ) as client:
        return list(await asyncio.gather(*(bounded(item) for item in items)))


def deliveries_post(
    items: Sequence[Outgoing],
    *,
    allow_private: bool,
    concurrency: int = 50,
    timeouts: Timeouts | None = None,
) -> list[Sent]:
    """Synchronous ``deliveries_post_async`` for the Celery task (its own loop in a helper
    thread when the calling thread already runs one)."""
    coro = deliveries_post_async(
        items, allow_private=allow_private, concurrency=concurrency, timeouts=timeouts or Timeouts()
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
