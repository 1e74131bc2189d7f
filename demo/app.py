"""Stageloop demo: a small chat-style staging service whose build can carry a known fault.

Run it with ``python demo/app.py`` (or ``python -m demo.app``). It listens on 127.0.0.1:$PORT
(default 8080; ``PORT=0`` picks a free port) and prints one line ``listening on http://HOST:PORT``
once it accepts connections. Environment:

- ``STAGELOOP_REVISION``: echoed in the ``X-Stageloop-Revision`` header of every response.
- ``STAGELOOP_IMAGE``: the build, e.g. ``stageloop-demo:1.4.0``. Builds listed in ``builds.json``
  (next to this file, or ``STAGELOOP_BUILDS_FILE``) may carry faults; an unknown build has none.
- ``STAGELOOP_DEMO_USERS``: extra ``user:password`` pairs, comma separated.

Two faults:

- ``stream-hang`` (build 1.4.0) makes ``GET /threads/{id}/stream`` send its first chunk and then
  hang forever, while ``/healthz`` stays green: exactly the kind of regression only a test
  catches.
- ``slow-50ms`` (build 1.4.2) answers every request, ``/healthz`` included, 50 ms later. Every
  test passes and no absolute latency threshold is near: only comparing the build with the
  stable revision during a canary release catches it.

State lives in memory. This file imports only the standard library and aiohttp, so it runs as a
plain script.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

KNOWN_FAULTS = frozenset({"stream-hang", "slow-50ms"})
DEFAULT_BUILDS_FILE = Path(__file__).with_name("builds.json")
DEFAULT_USERS = {"demo": "demo-password", "qa": "qa-password"}
PUBLIC_PATHS = frozenset({"/healthz", "/auth/token"})
REVISION_HEADER = "X-Stageloop-Revision"
MAX_TITLE = 200
MAX_CONTENT = 4000
STREAM_CHUNK_DELAY = 0.05
SLOW_FAULT_DELAY = 0.05
WORDS_PER_CHUNK = 3

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error the API reports as JSON: ``{"error": code, "message": sentence}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def load_faults(image: str, builds_file: Path = DEFAULT_BUILDS_FILE) -> frozenset[str]:
    """Return the faults the build ``image`` carries according to ``builds_file``.

    An image the file does not list has no faults. A fault name this service does not know is a
    mistake in the file, so it raises ``ValueError`` rather than being silently ignored.
    """
    builds = json.loads(builds_file.read_text(encoding="utf-8"))
    faults = frozenset(builds.get(image, {}).get("faults", []))
    unknown = faults - KNOWN_FAULTS
    if unknown:
        raise ValueError(
            f"{builds_file} gives build {image!r} unknown fault(s) {sorted(unknown)}; "
            f"known faults are {sorted(KNOWN_FAULTS)}."
        )
    return faults


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Store:
    """The service's whole state: users, issued tokens, threads and their messages."""

    users: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def thread_of(self, request: web.Request) -> dict[str, Any]:
        """The thread named in the URL, if the caller owns it; 404 otherwise (no existence leak)."""
        thread = self.threads.get(request.match_info["thread_id"])
        if thread is None or thread["owner"] != request["user"]:
            raise ApiError(404, "not_found", "No thread with this id exists for you.")
        return thread

    def add_message(self, thread: dict[str, Any], role: str, content: str) -> dict[str, Any]:
        message = {
            "id": self.new_id("msg"),
            "thread_id": thread["id"],
            "role": role,
            "content": content,
            "created_at": _now(),
        }
        self.messages[thread["id"]].append(message)
        return message


@dataclass(frozen=True)
class Build:
    revision: str
    image: str
    faults: frozenset[str]


STORE = web.AppKey("store", Store)
BUILD = web.AppKey("build", Build)


def _public_thread(thread: dict[str, Any], store: Store) -> dict[str, Any]:
    return {
        "id": thread["id"],
        "title": thread["title"],
        "created_at": thread["created_at"],
        "message_count": len(store.messages[thread["id"]]),
    }


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    return body


def _text_field(body: dict[str, Any], name: str, *, max_length: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "validation_error", f"Field {name!r} is required: a non-empty string.")
    if len(value) > max_length:
        raise ApiError(
            400, "validation_error", f"Field {name!r} is longer than {max_length} characters."
        )
    return value.strip()


# --- agents: deterministic, so tests can assert on their output -------------------------------


def _agent_echo(text: str) -> str:
    return text


def _agent_reverse(text: str) -> str:
    return text[::-1]


def _agent_summarize(text: str) -> str:
    words = text.split()
    head = " ".join(words[:8])
    return f"{head}{' …' if len(words) > 8 else ''} ({len(words)} words)"


AGENTS: dict[str, tuple[str, Callable[[str], str]]] = {
    "echo": ("Repeats the input verbatim.", _agent_echo),
    "reverse": ("Returns the input reversed.", _agent_reverse),
    "summarize": ("Keeps the first eight words and counts the rest.", _agent_summarize),
}


def compose_reply(content: str) -> str:
    """The assistant's streamed reply to ``content`` (deterministic)."""
    return (
        f"I read your message: {content}. This reply arrives in parts, "
        "so you can watch it being written."
    )


def split_chunks(text: str) -> list[str]:
    """Split ``text`` into chunks of a few words whose concatenation is exactly ``text``."""
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + WORDS_PER_CHUNK]) for i in range(0, len(words), WORDS_PER_CHUNK)]


# --- middlewares and signals -------------------------------------------------------------------


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ``ApiError`` and aiohttp's own 4xx (unknown route, wrong method) into JSON bodies."""
    try:
        return await handler(request)
    except ApiError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return web.json_response(
            {"error": exc.code, "message": exc.message}, status=exc.status, headers=headers
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = (exc.reason or "error").lower().replace(" ", "_")
        return web.json_response(
            {"error": code, "message": f"{exc.reason}: {request.method} {request.path}."},
            status=exc.status,
        )


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route but health and login needs ``Authorization: Bearer <token>``.

    The websocket also accepts ``?token=`` because browsers cannot set headers on a websocket.
    """
    if request.match_info.http_exception is not None or request.path in PUBLIC_PATHS:
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = request.query.get("token", "") if request.path == "/ws" else ""
    user = request.app[STORE].tokens.get(token.strip()) if token else None
    if user is None:
        raise ApiError(401, "unauthorized", "A valid bearer token is required: POST /auth/token.")
    request["user"] = user
    return await handler(request)


@web.middleware
async def slow_fault(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The ``slow-50ms`` fault: every request waits 50 ms before it is handled."""
    if "slow-50ms" in request.app[BUILD].faults:
        await asyncio.sleep(SLOW_FAULT_DELAY)
    return await handler(request)


async def add_revision_header(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[REVISION_HEADER] = request.app[BUILD].revision


# --- handlers ----------------------------------------------------------------------------------

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    build = request.app[BUILD]
    return web.json_response({"status": "ok", "build": build.image, "revision": build.revision})


@routes.post("/auth/token")
async def issue_token(request: web.Request) -> web.Response:
    body = await _json_object(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(400, "validation_error", "Send a JSON object with username and password.")
    store = request.app[STORE]
    expected = store.users.get(username)
    # compare_digest: the time taken must not tell how much of the password was right
    if expected is None or not secrets.compare_digest(expected.encode(), password.encode()):
        raise ApiError(401, "invalid_credentials", "Unknown username or wrong password.")
    token = secrets.token_urlsafe(24)
    store.tokens[token] = username
    return web.json_response({"access_token": token, "token_type": "bearer"})


@routes.get("/threads")
async def list_threads(request: web.Request) -> web.Response:
    store = request.app[STORE]
    mine = [t for t in store.threads.values() if t["owner"] == request["user"]]
    return web.json_response({"threads": [_public_thread(t, store) for t in mine]})


@routes.post("/threads")
async def create_thread(request: web.Request) -> web.Response:
    body = await _json_object(request)
    title = _text_field(body, "title", max_length=MAX_TITLE)
    store = request.app[STORE]
    thread = {
        "id": store.new_id("th"),
        "title": title,
        "owner": request["user"],
        "created_at": _now(),
    }
    store.threads[thread["id"]] = thread
    store.messages[thread["id"]] = []
    return web.json_response(_public_thread(thread, store), status=201)


@routes.get("/threads/{thread_id}")
async def get_thread(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response(_public_thread(store.thread_of(request), store))


@routes.get("/threads/{thread_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    store = request.app[STORE]
    thread = store.thread_of(request)
    raw_limit = request.query.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise ApiError(400, "validation_error", "Query parameter 'limit' must be 1 to 100.")
    # the latest `limit` messages, oldest first, as a chat window shows them
    return web.json_response({"messages": store.messages[thread["id"]][-int(raw_limit) :]})


@routes.post("/threads/{thread_id}/messages")
async def post_message(request: web.Request) -> web.Response:
    store = request.app[STORE]
    thread = store.thread_of(request)
    body = await _json_object(request)
    content = _text_field(body, "content", max_length=MAX_CONTENT)
    role = body.get("role", "user")
    if role not in ("user", "assistant"):
        raise ApiError(400, "validation_error", "Field 'role' must be 'user' or 'assistant'.")
    return web.json_response(store.add_message(thread, role, content), status=201)


@routes.get("/threads/{thread_id}/stream")
async def stream_reply(request: web.Request) -> web.StreamResponse:
    """Stream the assistant's reply to the thread's last message as NDJSON.

    Lines are ``{"type": "partial", "index": i, "text": ...}`` and then one
    ``{"type": "final", "text": <all partials joined>, "chunks": n, "message": {...}}``.
    """
    store = request.app[STORE]
    thread = store.thread_of(request)
    history = store.messages[thread["id"]]
    if not history:
        raise ApiError(409, "nothing_to_reply_to", "The thread has no message to reply to yet.")
    reply = compose_reply(history[-1]["content"])
    chunks = split_chunks(reply)

    response = web.StreamResponse(
        headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    for index, chunk in enumerate(chunks):
        line = {"type": "partial", "index": index, "text": chunk}
        await response.write(json.dumps(line).encode() + b"\n")
        if index == 0 and "stream-hang" in request.app[BUILD].faults:
            # The fault: the first chunk went out, and the rest never comes.
            await asyncio.Future()
        await asyncio.sleep(STREAM_CHUNK_DELAY)
    message = store.add_message(thread, "assistant", reply)
    final = {"type": "final", "text": reply, "chunks": len(chunks), "message": message}
    await response.write(json.dumps(final).encode() + b"\n")
    await response.write_eof()
    return response


@routes.get("/agents")
async def list_agents(request: web.Request) -> web.Response:
    agents = [{"name": name, "description": desc} for name, (desc, _) in sorted(AGENTS.items())]
    return web.json_response({"agents": agents})


@routes.post("/agents/{name}/run")
async def run_agent(request: web.Request) -> web.Response:
    """Run an agent on ``input``; with ``thread_id``, the exchange is recorded in that thread."""
    name = request.match_info["name"]
    if name not in AGENTS:
        raise ApiError(404, "not_found", f"No agent named {name!r}; GET /agents lists them.")
    body = await _json_object(request)
    text = _text_field(body, "input", max_length=MAX_CONTENT)
    started = time.perf_counter()
    output = AGENTS[name][1](text)
    result: dict[str, Any] = {
        "agent": name,
        "output": output,
        "usage": {"input_chars": len(text), "output_chars": len(output)},
    }
    thread_id = body.get("thread_id")
    if thread_id is not None:
        store = request.app[STORE]
        thread = store.threads.get(thread_id) if isinstance(thread_id, str) else None
        if thread is None or thread["owner"] != request["user"]:
            raise ApiError(404, "not_found", "No thread with this id exists for you.")
        store.add_message(thread, "user", text)
        result["message"] = store.add_message(thread, "assistant", output)
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return web.json_response(result)


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """A chat socket. Every frame is a JSON object with a ``type``:

    ``ping`` → ``pong``; ``echo`` {text} → ``echo`` {text}; ``chat`` {thread_id, content} →
    ``message`` (the stored user message) then ``reply`` (the stored assistant message).
    Anything else gets an ``error`` frame and the socket stays open.
    """
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    store, user = request.app[STORE], request["user"]
    await ws.send_json({"type": "hello", "user": user, "build": request.app[BUILD].image})
    async for frame in ws:
        if frame.type != WSMsgType.TEXT:
            continue
        try:
            data = json.loads(frame.data)
        except json.JSONDecodeError:
            await ws.send_json({"type": "error", "error": "Frames must be JSON objects."})
            continue
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "ping":
            await ws.send_json({"type": "pong"})
        elif kind == "echo":
            await ws.send_json({"type": "echo", "text": data.get("text")})
        elif kind == "chat":
            thread = store.threads.get(data.get("thread_id"))
            content = data.get("content")
            if thread is None or thread["owner"] != user:
                await ws.send_json({"type": "error", "error": "No thread with this id for you."})
            elif not isinstance(content, str) or not content.strip():
                await ws.send_json({"type": "error", "error": "A chat frame needs content."})
            else:
                sent = store.add_message(thread, "user", content.strip())
                await ws.send_json({"type": "message", "message": sent})
                reply = store.add_message(thread, "assistant", compose_reply(sent["content"]))
                await ws.send_json({"type": "reply", "message": reply})
        else:
            await ws.send_json({"type": "error", "error": f"Unknown frame type {kind!r}."})
    return ws


# --- assembly and entry point ------------------------------------------------------------------


def create_app(
    *,
    revision: str,
    image: str,
    faults: frozenset[str] = frozenset(),
    users: dict[str, str] | None = None,
) -> web.Application:
    """Build the service for one build. ``users`` defaults to the demo accounts."""
    app = web.Application(middlewares=[slow_fault, json_errors, require_token])
    app[STORE] = Store(users=dict(users if users is not None else DEFAULT_USERS))
    app[BUILD] = Build(revision=revision, image=image, faults=faults)
    app.on_response_prepare.append(add_revision_header)
    app.add_routes(routes)
    return app


def _users_from_env(raw: str) -> dict[str, str]:
    users = dict(DEFAULT_USERS)
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, password = pair.partition(":")
        if not sep or not name or not password:
            raise ValueError(f"STAGELOOP_DEMO_USERS entry {pair!r} is not user:password.")
        users[name] = password
    return users


async def serve(app: web.Application, host: str, port: int) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, announcing the bound address on stdout."""
    # Short shutdown: a hung stream (the fault) must not hold the process for a minute.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    build = app[BUILD]
    print(
        f"listening on http://{host}:{bound_port} build={build.image} "
        f"revision={build.revision} faults={','.join(sorted(build.faults)) or 'none'}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> int:
    """Start the service from environment variables; print one line and exit 2 on bad config."""
    image = os.environ.get("STAGELOOP_IMAGE", "stageloop-demo:dev")
    revision = os.environ.get("STAGELOOP_REVISION", "dev")
    builds_file = Path(os.environ.get("STAGELOOP_BUILDS_FILE", DEFAULT_BUILDS_FILE))
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        port = int(os.environ.get("PORT", "8080"))
        faults = load_faults(image, builds_file)
        users = _users_from_env(os.environ.get("STAGELOOP_DEMO_USERS", ""))
    except (ValueError, OSError) as exc:
        print(f"stageloop-demo: cannot start: {exc}", file=sys.stderr)
        return 2
    app = create_app(revision=revision, image=image, faults=faults, users=users)
    asyncio.run(serve(app, host, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
