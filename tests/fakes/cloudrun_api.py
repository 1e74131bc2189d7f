"""A small fake of the Cloud Run Admin API v2, spoken over REST/JSON like ``run_v2``'s transport.

Covers what the cloudrun deploy target calls: services get/patch, long-running operations,
revisions get/list/delete. Scenario knobs: ``fail_operation`` (the next operations end with that
error), ``fail_paths`` ({path or "METHOD path": HTTP status}, e.g. ``"PATCH /v2/…"`` fails only the
update), ``fail_calls`` ({"METHOD path": {n: HTTP status}}: only the n-th such call fails, counted
from 1), ``never_done``, ``polls_before_done`` and ``tag_urls`` (False: tagged traffic statuses
carry no uri).

Like Cloud Run: an update whose operation fails (or never ends) changes nothing; a traffic list
must add up to 100 %, name revisions that exist (or the one the update creates) and use each tag
once; a tagged entry is reachable at ``https://TAG---<service host>``; deleting a revision that
still serves traffic is refused (400 FAILED_PRECONDITION).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"
REVISION_TYPE = "type.googleapis.com/google.cloud.run.v2.Revision"
LATEST, REVISION = 1, 2  # TrafficTargetAllocationType
SUCCEEDED, FAILED = 4, 3  # Condition.State
_STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
_STATUS_NAMES |= {409: "ALREADY_EXISTS", 500: "INTERNAL", 503: "UNAVAILABLE"}
_TAG = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

_SERVICE = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/services/[^/:]+)$")
_REVISIONS = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/services/[^/]+)/revisions$")
_REVISION = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/services/[^/]+/revisions/[^/]+)$")
_OPERATION = re.compile(r"^/v2/(projects/[^/]+/locations/[^/]+/operations/[^/:]+)$")


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: str = "") -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.status = status or _STATUS_NAMES.get(code, "UNKNOWN")


class FakeCloudRun:
    """In-memory services, revisions and operations behind a threaded HTTP server."""

    def __init__(self) -> None:
        self.services: dict[str, dict[str, Any]] = {}
        self.revisions: dict[str, dict[str, Any]] = {}  # in creation order
        self.operations: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.fail_operation = ""
        self.fail_paths: dict[str, int] = {}
        self.fail_calls: dict[str, dict[int, int]] = {}
        self._counts: dict[str, int] = {}
        self.never_done = False
        self.polls_before_done = 1
        self.tag_urls = True
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- setup -------------------------------------------------------------------------------

    def add_service(self, project: str, region: str, service: str, image: str) -> str:
        """Create a service with one ready revision serving 100 % through LATEST."""
        name = f"projects/{project}/locations/{region}/services/{service}"
        template = {"revision": f"{service}-00001-abc", "containers": [{"image": image}]}
        self.services[name] = {
            "name": name,
            "template": template,
            "traffic": [{"type": LATEST, "percent": 100}],
            "uri": f"https://{service}-xyz-uc.a.run.app",
        }
        self._create_revision(name, template, ready=True)
        self._resolve(self.services[name])
        return name

    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self.url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, method: str) -> list[str]:
        return [path for m, path, _, _ in self.requests if m == method]

    def split(self, service: str) -> dict[str, int]:
        """What the service's traffic statuses say now: {revision: percent}, shares > 0 only."""
        split: dict[str, int] = {}
        for status in self.services[service].get("trafficStatuses", []):
            if status.get("percent"):
                name = status["revision"]
                split[name] = split.get(name, 0) + status["percent"]
        return split

    def tags(self, service: str) -> dict[str, str]:
        """{tag: revision} of the service's traffic list."""
        traffic = self.services[service]["traffic"]
        return {t["tag"]: t.get("revision", "") for t in traffic if t.get("tag")}

    # -- the API -----------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        with self._lock:
            self.requests.append((method, path, query, body))
            key = f"{method} {path}"
            self._counts[key] = self._counts.get(key, 0) + 1
            code = self.fail_calls.get(key, {}).get(self._counts[key])
            if code:
                raise ApiError(code, f"fake error {code} on call {self._counts[key]} of {key}")
            for key in (f"{method} {path}", path):
                if key not in self.fail_paths:
                    continue
                code = self.fail_paths[key]
                raise ApiError(code, f"fake error {code} on {path}")
            for pattern, verbs in (
                (_SERVICE, {"GET": self._get_service, "PATCH": self._patch_service}),
                (_REVISIONS, {"GET": self._list_revisions}),
                (_REVISION, {"GET": self._get_revision, "DELETE": self._delete_revision}),
                (_OPERATION, {"GET": self._get_operation}),
            ):
                match = pattern.match(path)
                if match and method in verbs:
                    return verbs[method](match.group(1), query, body)
            raise ApiError(404, f"no route {method} {path}")

    def _get_service(self, name: str, query: Any, body: Any) -> dict[str, Any]:
        if name not in self.services:
            raise ApiError(404, f"Resource '{name}' was not found")
        return copy.deepcopy(self.services[name])

    def _patch_service(self, name: str, query: Any, body: dict[str, Any]) -> dict[str, Any]:
        if name not in self.services:
            raise ApiError(404, f"Resource '{name}' was not found")
        current = self.services[name]
        template = body.get("template") or current["template"]
        revision = template.get("revision") or f"{name.rsplit('/', 1)[1]}-{next(self._ids):05d}"
        revision_path = f"{name}/revisions/{revision}"
        new_revision = revision_path not in self.revisions
        if not new_revision and _strip(template) != _strip(self.revisions[revision_path]["tpl"]):
            raise ApiError(
                409, f"Revision named '{revision}' with different configuration already exists."
            )
        traffic = body.get("traffic") or current["traffic"]
        self._check_traffic(name, traffic, revision)
        operation = f"{name.split('/services/')[0]}/operations/{next(self._ids)}"
        updated = {**copy.deepcopy(current), "template": template, "traffic": traffic}
        self.operations[operation] = {
            "polls": 0,
            "service": name,
            "updated": updated,
            "revision": revision_path if new_revision else "",
            "error": self.fail_operation,
        }
        return {"name": operation, "done": False}

    def _get_operation(self, name: str, query: Any, body: Any) -> dict[str, Any]:
        op = self.operations.get(name)
        if op is None:
            raise ApiError(404, f"Operation '{name}' was not found")
        op["polls"] += 1
        if self.never_done or op["polls"] < self.polls_before_done:
            return {"name": name, "done": False}
        if "result" not in op:  # complete once: create the revision, apply the update
            updated = op["updated"]
            if not op["error"]:
                self.services[op["service"]] = updated
            if op["revision"]:
                self._create_revision(op["service"], updated["template"], not op["error"])
            if op["error"]:
                op["result"] = {"error": {"code": 9, "message": op["error"]}}
            else:
                self._resolve(updated)
                op["result"] = {"response": {"@type": SERVICE_TYPE, **copy.deepcopy(updated)}}
        return {"name": name, "done": True, **op["result"]}

    def _list_revisions(self, parent: str, query: dict[str, list[str]], body: Any) -> Any:
        if parent not in self.services:
            raise ApiError(404, f"Resource '{parent}' was not found")
        names = [n for n in reversed(self.revisions) if n.startswith(parent + "/")]
        size = int(query.get("pageSize", ["100"])[0] or 100)
        start = int(query.get("pageToken", ["0"])[0] or 0)
        page = [self._public(self.revisions[n]) for n in names[start : start + size]]
        more = start + size < len(names)
        return {"revisions": page, **({"nextPageToken": str(start + size)} if more else {})}

    def _get_revision(self, name: str, query: Any, body: Any) -> dict[str, Any]:
        if name not in self.revisions:
            raise ApiError(404, f"Resource '{name}' was not found")
        return self._public(self.revisions[name])

    def _delete_revision(self, name: str, query: Any, body: Any) -> dict[str, Any]:
        revision = self._get_revision(name, query, body)
        service = self.services[revision["service"]]
        short = name.rsplit("/", 1)[-1]
        serving = [s for s in service.get("trafficStatuses", []) if s["revision"] == short]
        if any(s.get("percent") for s in serving):
            raise ApiError(
                400,
                f"Revision '{short}' is serving traffic and cannot be deleted.",
                "FAILED_PRECONDITION",
            )
        del self.revisions[name]
        operation = f"{name.split('/services/')[0]}/operations/{next(self._ids)}"
        return {"name": operation, "done": True, "response": {"@type": REVISION_TYPE, **revision}}

    # -- internals ---------------------------------------------------------------------------

    def _check_traffic(self, service: str, traffic: list[dict[str, Any]], new: str) -> None:
        """Refuse, as Cloud Run does, a traffic list it could not route."""
        total = sum(int(t.get("percent", 0)) for t in traffic)
        if total != 100:
            raise ApiError(400, f"Traffic percentages must add up to 100, not {total}.")
        tags = [t["tag"] for t in traffic if t.get("tag")]
        for tag in tags:
            if tags.count(tag) > 1 or not _TAG.match(tag):
                raise ApiError(400, f"Traffic tag '{tag}' is invalid or used more than once.")
        for t in traffic:
            rev = t.get("revision", "")
            if rev and rev != new and f"{service}/revisions/{rev}" not in self.revisions:
                raise ApiError(400, f"Revision '{rev}' named in traffic does not exist.")

    def _create_revision(self, service: str, template: dict[str, Any], ready: bool) -> None:
        name = f"{service}/revisions/{template['revision']}"
        state = SUCCEEDED if ready else FAILED
        self.revisions[name] = {
            "name": name,
            "service": service,
            "tpl": copy.deepcopy(template),
            "containers": template.get("containers", []),
            "conditions": [{"type": "Ready", "state": state}],
        }
        if ready:
            self.services[service]["latestReadyRevision"] = name
        self.services[service]["latestCreatedRevision"] = name

    def _public(self, revision: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in revision.items() if k != "tpl"}

    def _resolve(self, service: dict[str, Any]) -> None:
        """Fill the output-only fields Cloud Run computes: statuses and the terminal condition."""
        latest = service.get("latestReadyRevision", "").rsplit("/", 1)[-1]
        host = service["uri"].removeprefix("https://")
        service["trafficStatuses"] = [
            {
                "type": t.get("type", LATEST),
                "percent": t.get("percent", 0),
                "tag": t.get("tag", ""),
                "revision": latest
                if t.get("type") in (LATEST, "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST")
                else t.get("revision", ""),
                **(
                    {"uri": f"https://{t['tag']}---{host}"}
                    if t.get("tag") and self.tag_urls
                    else {}
                ),
            }
            for t in service["traffic"]
        ]
        service["terminalCondition"] = {"type": "Ready", "state": SUCCEEDED}


def _strip(value: Any) -> Any:
    """Drop empty values and the revision name, so templates compare by configuration."""
    if isinstance(value, dict):
        kept = {k: _strip(v) for k, v in value.items() if k != "revision"}
        return {k: v for k, v in kept.items() if v not in ("", 0, "0", False, [], {}, None)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class _Handler(BaseHTTPRequestHandler):
    api: FakeCloudRun

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
            code, payload = 200, self.api.handle(self.command, url.path, parse_qs(url.query), body)
        except ApiError as exc:
            code = exc.code
            payload = {"error": {"code": code, "message": exc.message, "status": exc.status}}
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_DELETE = do_POST = _serve
