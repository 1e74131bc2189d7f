"""Posting commit statuses to GitHub and GitLab: the one httpx wrapper for code hosts, every
request bounded by its timeouts, every failure an outcome (never an exception).

Pure Python, no Django: the service claims rows, turns them into ``StatusPost`` items, calls
``statuses_post`` and records the ``Posted`` outcomes. The token goes in a header only; it is
never part of a URL, an outcome, an error or a log line (a host's answer that echoes it is masked).

- GitHub: ``POST {api}/repos/{owner}/{repo}/statuses/{sha}`` with state (pending, success, failure,
  error), target_url, description, context; ``Authorization: Bearer <token>``.
- GitLab: ``POST {url}/api/v4/projects/{url-encoded path}/statuses/{sha}`` with state (pending,
  running, success, failed, canceled), name, target_url, description; ``PRIVATE-TOKEN: <token>``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from integrations.retry_after import retry_after_seconds

EXCERPT_CHARS = 1024
DESCRIPTION_CHARS = 140  # GitHub refuses a longer description
_USER_AGENT = "Stageloop-CommitStatus/1"
GITHUB, GITLAB = "github", "gitlab"

# Host-neutral state -> each host's word. GitLab has no "error"; its "running" says a run started.
_STATES = {
    GITHUB: {
        "pending": "pending",
        "success": "success",
        "failure": "failure",
        "error": "error",
        "cancelled": "error",
    },
    GITLAB: {
        "pending": "running",
        "success": "success",
        "failure": "failed",
        "error": "failed",
        "cancelled": "canceled",
    },
}
_TOKEN_NAMES = {GITHUB: "STAGELOOP_GITHUB_TOKEN", GITLAB: "STAGELOOP_GITLAB_TOKEN"}


@dataclass(frozen=True)
class Host:
    kind: str  # GITHUB or GITLAB
    base_url: str  # GitHub's API root, or GitLab's root (``/api/v4`` is added)
    token: str

    def __repr__(self) -> str:  # never the token, even in a traceback's locals
        return f"Host({self.kind!r}, {self.base_url!r})"


@dataclass(frozen=True)
class StatusPost:
    status_id: int
    host: Host
    repository: str  # "owner/name", or GitLab's project path
    sha: str
    state: str  # host-neutral: pending, success, failure, error, cancelled
    context: str
    description: str
    target_url: str


@dataclass(frozen=True)
class Posted:
    """How one attempt went; ``retry`` says whether a later attempt may succeed, ``retry_after``
    the seconds the host asked to wait (None: not said)."""

    status_id: int
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


def request_for(item: StatusPost) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL, headers and JSON body of one status (tests read them too)."""
    host, state = item.host, _STATES[item.host.kind][item.state]
    description = item.description[:DESCRIPTION_CHARS]
    if host.kind == GITHUB:
        owner, _, name = item.repository.partition("/")
        url = f"{host.base_url}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        url += f"/statuses/{quote(item.sha, safe='')}"
        headers = {
            "Authorization": f"Bearer {host.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        body = {"state": state, "description": description, "context": item.context}
    else:
        project = quote(item.repository, safe="")
        url = f"{host.base_url}/api/v4/projects/{project}/statuses/{quote(item.sha, safe='')}"
        headers = {"PRIVATE-TOKEN": host.token}
        body = {"state": state, "description": description, "name": item.context}
    if item.target_url:
        body["target_url"] = item.target_url
    headers["User-Agent"] = _USER_AGENT
    return url, headers, body


async def _post(client: httpx.AsyncClient, item: StatusPost, timeouts: Timeouts) -> Posted:
    started = time.perf_counter()
    url, headers, body = request_for(item)
    try:
        async with asyncio.timeout(timeouts.total):  # the whole exchange, not each read
            response = await client.post(
                url,
                json=body,
                headers=headers,
                timeout=httpx.Timeout(timeouts.total, connect=timeouts.connect),
            )
    except Exception as exc:  # one bad host must not lose the other outcomes
        retry, error = _classify(exc, timeouts)
        return Posted(item.status_id, False, retry, None, _ms(started), "", _mask(error, item))
    return _outcome(item, response, _ms(started))


def _outcome(item: StatusPost, response: httpx.Response, ms: int) -> Posted:
    status = response.status_code
    excerpt = _mask(response.text[:EXCERPT_CHARS], item)
    host = "GitHub" if item.host.kind == GITHUB else "GitLab"
    token = _TOKEN_NAMES[item.host.kind]
    if 200 <= status < 300:
        return Posted(item.status_id, True, False, status, ms, excerpt, "")
    if item.host.kind == GITLAB and status == 400 and "Cannot transition status" in excerpt:
        # GitLab refuses to post a state the commit already has (running -> running): done.
        return Posted(item.status_id, True, False, status, ms, excerpt, "")
    wait = None
    rate_limited = status == 429 or (
        status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
    )
    if status in (429, 503) or rate_limited:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        reset = response.headers.get("x-ratelimit-reset", "")
        if wait is None and rate_limited and reset.isdigit():
            wait = max(0.0, int(reset) - time.time())
    if rate_limited:
        return Posted(
            item.status_id,
            False,
            True,
            status,
            ms,
            excerpt,
            f"{host} rate-limited the token ({status}); Stageloop tries again later.",
            wait,
        )
    if status == 401:
        error = f"{host} refused the token (401): check {token}; no retry."
    elif status == 403:
        error = (
            f"{host} answered 403: the token may not post statuses to {item.repository}; "
            f"give it that permission ({token}); no retry."
        )
    elif status == 404:
        error = (
            f"{host} knows no repository {item.repository} or commit {item.sha[:12]} the token "
            "can see (404): check the service's repository; no retry."
        )
    elif status >= 500 or status == 408:
        error = f"{host} answered {status}; Stageloop tries again later."
        return Posted(item.status_id, False, True, status, ms, excerpt, error, wait)
    else:
        error = f"{host} answered {status}, which refuses the status: no retry."
    return Posted(item.status_id, False, False, status, ms, excerpt, error)


def _mask(text: str, item: StatusPost) -> str:
    token = item.host.token
    return text.replace(token, "[token]") if token else text


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _classify(exc: BaseException, timeouts: Timeouts) -> tuple[bool, str]:
    """(retry, sentence) for a request that raised."""
    if isinstance(exc, httpx.ConnectTimeout):
        return True, f"No connection within {timeouts.connect:g} s; Stageloop tries again later."
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return True, f"No answer within {timeouts.total:g} s; Stageloop tries again later."
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return False, f"The code host's URL is not valid ({exc}); fix its setting."
    if isinstance(exc, httpx.TransportError):
        return True, (
            f"Could not reach the code host ({type(exc).__name__}: {exc}); "
            "Stageloop tries again later."
        )
    return True, f"Posting failed ({type(exc).__name__}: {exc}); Stageloop tries again later."


async def statuses_post_async(
    items: Sequence[StatusPost], *, concurrency: int, timeouts: Timeouts
) -> list[Posted]:
    """POST every status, at most ``concurrency`` at a time; outcomes in the order given."""
    if not items:
        return []
    gate = asyncio.Semaphore(concurrency)

    async def bounded(item: StatusPost) -> Posted:
        async with gate:
            return await _post(client, item, timeouts)

    # No redirects: the token must not follow one elsewhere. The environment's proxy and CA
    # bundle apply (the host is the admin's, often behind the company's proxy).
    async with httpx.AsyncClient(follow_redirects=False) as client:
        return list(await asyncio.gather(*(bounded(item) for item in items)))


def statuses_post(
    items: Sequence[StatusPost], *, concurrency: int = 10, timeouts: Timeouts | None = None
) -> list[Posted]:
    """Synchronous ``statuses_post_async`` for the Celery task (its own loop in a helper thread
    when the calling thread already runs one)."""
    coro = statuses_post_async(items, concurrency=concurrency, timeouts=timeouts or Timeouts())
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
