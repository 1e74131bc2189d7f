"""The embedded deploy target: each revision is a child process on a free local port.

The revision's environment is built by ``engine.childenv``: an allowlist of the dashboard's
variables (never its secrets), the names in ``pass_env``, the target's ``env``, then PORT and
STAGELOOP_REVISION / _IMAGE / _COMMIT.

The service URL is the current revision's URL; the caller records which revision is current and
calls ``retire(old)`` after a successful deploy. Which process serves which revision is kept in a
small JSON file under ``state_dir`` so that any worker process can find and stop it.

Traffic, locally, is which revision serves: the one a deploy last started, or that ``set_traffic``
or ``rollback`` last chose (``_serving`` in the state file), counted only while its process
lives. A retired revision keeps what started it (image, commit, env) in the state file, so a
rollback to it starts it again: same command, image and revision name, a new pid and port.

A gated or canary release deploys the candidate with ``no_traffic``: it starts on its own port
like any revision (its RevisionInfo's url reaches it alone) and ``_serving`` does not change.
A canary step, ``split(stable, candidate, percent)`` with 0 < percent < 100, puts the weighted
proxy of ``engine.deploy.split_proxy`` in front of the two (see there why a laptop splits this
way): one proxy per state file, its own process group, recorded under ``_proxy`` (pid, port,
url, log path, the revisions it points at) like any process, and ``traffic()`` reports the
weights the proxy itself answers while it is recorded (DeployError when it does not answer;
never a guess). ``_serving`` stays the stable revision. Whatever makes one revision serve alone
(``split`` at 100 or 0, ``set_traffic``, ``rollback``, a deploy that takes traffic) stops the
proxy, and so does retiring a revision it points at or ``stop_proxy()``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from engine.childenv import UNBUFFERED, child_env
from engine.deploy.base import (
    DeployError,
    DeployRequest,
    DeployTarget,
    LogFn,
    OperationFn,
    RevisionInfo,
    StartFn,
    require_argv,
    require_names,
    tail,
)
from engine.deploy.split_proxy import CONTROL_PATH
from engine.processes import group_alive, group_is_led_by, group_start, group_stop

DEFAULT_STATE_DIR = Path(tempfile.gettempdir()) / "stageloop" / "local-deploy"
# State-file keys that are never revision names (a revision name starts with a letter).
SERVING = "_serving"  # the revision that serves
PROXY = "_proxy"  # the split proxy in front of two revisions during a canary step
# Where the ``engine`` package lives, for the proxy's ``python -m`` whatever the service's cwd.
_ENGINE_ROOT = Path(__file__).resolve().parents[2]


class LocalTarget(DeployTarget):
    """Runs ``config['command']`` per revision; one revision serves, except during a canary
    step, when the split proxy shares its requests between two."""

    kind = "local"

    def __init__(self, config: dict[str, Any]) -> None:
        self.command = require_argv(config.get("command"))
        self.cwd = config.get("cwd") or None
        self.health_path = "/" + str(config.get("health_path", "/healthz")).lstrip("/")
        self.host = str(config.get("host", "127.0.0.1"))
        self.start_timeout = float(config.get("start_timeout", 30))
        self.health_timeout = float(config.get("health_timeout", 2))
        self.poll_interval = float(config.get("poll_interval", 0.2))
        self.stop_grace = float(config.get("stop_grace", 5))
        self.env = {str(k): str(v) for k, v in (config.get("env") or {}).items()}
        # Names of the dashboard's own variables the revision may see (see engine.childenv).
        self.pass_env = require_names(config.get("pass_env"))
        self.state_dir = Path(config.get("state_dir") or DEFAULT_STATE_DIR)

    # -- the DeployTarget interface ---------------------------------------------------------

    def deploy(
        self,
        req: DeployRequest,
        *,
        log: LogFn,
        on_operation: OperationFn | None = None,
        on_start: StartFn | None = None,
    ) -> RevisionInfo:
        """Start the revision's process and return it once its health path answers 2xx."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        port = _free_port(self.host)
        url = f"http://{self.host}:{port}"
        log_path = self.state_dir / f"{req.revision_name}.log"
        # "{port}" in an argument lets commands that take the port as a flag use the free port.
        argv = [arg.replace("{port}", str(port)) for arg in self.command]
        env = child_env(
            {**UNBUFFERED, **self.env, **req.env},
            pass_env=self.pass_env,
            own={
                "PORT": str(port),
                "STAGELOOP_REVISION": req.revision_name,
                "STAGELOOP_IMAGE": req.image,
                "STAGELOOP_COMMIT": req.commit,
            },
        )
        with open(log_path, "wb") as out:
            try:
                # Its own process group: it survives us, and stops as a whole.
                proc = group_start(
                    argv,
                    cwd=self.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                raise DeployError(
                    f"could not start {argv[0]!r} for {req.revision_name}: {exc}"
                ) from None
        try:
            # A callback that raises (the caller's database went away) ends the deploy: the
            # process it started must not outlive it, unrecorded in the state file.
            if on_start:
                on_start(proc.pid)
            log(f"started {req.revision_name}: pid {proc.pid} on {url}, output in {log_path}")
            if on_operation:
                on_operation(f"pid:{proc.pid}")
            problem = self._wait_healthy(proc, url + self.health_path, log_path, log)
        except BaseException:
            group_stop(proc.pid, grace=min(self.stop_grace, 2.0))
            _reap(proc)
            raise
        if problem:
            group_stop(proc.pid, grace=min(self.stop_grace, 2.0))
            _reap(proc)
            output = tail(_read_lines(log_path)) or "(no output)"
            raise DeployError(f"{req.revision_name} {problem}. Last output:\n{output}")

        extra = {"pid": proc.pid, "port": port, "log_path": str(log_path)}
        started = {"image": req.image, "commit": req.commit, "env": req.env}
        with self._state() as state:
            state[req.revision_name] = {"url": url, **started, **extra}
            if not req.no_traffic:
                self._serve_alone(state, req.revision_name)
        log(f"{req.revision_name} is healthy at {url}{self.health_path}")
        if req.no_traffic:
            log(f"{req.revision_name} takes no traffic; it answers on its own URL {url}")
        return RevisionInfo(
            name=req.revision_name,
            url=url,
            status="ready",
            image=req.image,
            operation=f"pid:{proc.pid}",
            extra=extra,
        )

    def status(self, revision: str) -> RevisionInfo:
        """'ready' if the process lives and its health path answers 2xx; 'retired' if unknown."""
        entry = self._entry(revision)
        if entry is None or not entry.get("pid"):
            return RevisionInfo(name=revision, url="", status="retired")
        info = _info(revision, entry, "ready")
        if not group_alive(entry["pid"]):
            info.status = "failed"
            info.extra["reason"] = f"process {entry['pid']} is not running"
            return info
        problem = self._health_problem(info.url + self.health_path)
        if problem:
            info.status = "failed"
            info.extra["reason"] = problem
        return info

    def set_traffic(self, revision: str, percent: int = 100, tag: str = "") -> dict[str, int]:
        """Make ``revision`` the one that serves alone (100 %); a canary share is ``split``."""
        if percent != 100:
            raise DeployError(
                "set_traffic on the local target sends all traffic to one revision; "
                "a canary share goes through split(stable, candidate, percent)"
            )
        with self._state() as state:
            entry = state.get(revision) or {}
            if not entry.get("pid") or not group_alive(entry["pid"]):
                raise DeployError(
                    f"cannot send traffic to {revision}: its process is no longer running "
                    "(retired or crashed); roll back to it to start it again"
                )
            self._serve_alone(state, revision)
        return {revision: 100}

    def split(self, stable: str, candidate: str, percent: int, *, tag: str = "") -> dict[str, int]:
        """0 < ``percent`` < 100: the split proxy sends that share of its requests to
        ``candidate`` and the rest to ``stable`` (started if none lives); 100 or 0: the
        candidate or the stable revision serves alone and the proxy stops. Returns ``traffic()``
        afterwards. The revisions that are to take traffic must be running."""
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise DeployError(f"a traffic split must be between 0 and 100 %, not {percent!r}")
        if stable == candidate:
            raise DeployError(f"cannot split traffic between {stable} and itself")
        # A rollback (0 %) must work when the candidate crashed, a promotion when stable did.
        needed = {0: [stable], 100: [candidate]}.get(percent, [stable, candidate])
        # The state is written back only when this block ends without an exception, so nothing
        # after a proxy starts may raise without stopping it; the split is read back after.
        with self._state() as state:
            for name in needed:
                pid = (state.get(name) or {}).get("pid")
                if not pid or not group_alive(pid):
                    share = percent if name == candidate else 100 - percent
                    raise DeployError(
                        f"cannot send {share} % of traffic to {name}: its process is not "
                        "running (retired or crashed)"
                    )
            if percent in (0, 100):
                self._serve_alone(state, candidate if percent == 100 else stable)
            else:
                self._split_through_proxy(state, stable, candidate, percent)
        return self.traffic()

    def traffic(self) -> dict[str, int]:
        """While the split proxy is recorded, the weights it reports (DeployError if it does
        not answer); else {revision: 100} for the revision that serves while its process
        lives, else {}."""
        with self._state() as state:
            return self._traffic(state)

    def proxy_url(self) -> str:
        """The split proxy's URL while one is recorded (a canary step), else ''."""
        with self._state() as state:
            return str((state.get(PROXY) or {}).get("url") or "")

    def stop_proxy(self) -> None:
        """Stop the split proxy, if one is recorded; the stable revision keeps serving."""
        with self._state() as state:
            self._stop_proxy(state)

    def rollback(self, to_revision: str, *, known: RevisionInfo | None = None) -> dict[str, int]:
        """Make ``to_revision`` serve; if its process was retired or crashed, start it again from
        what started it (the state file's image, commit and env, else ``known``'s)."""
        entry = self._entry(to_revision) or {}
        if entry.get("pid") and group_alive(entry["pid"]):
            return self.set_traffic(to_revision, 100)
        image = entry.get("image") or (known.image if known else "")
        if not entry and known is None:
            raise DeployError(
                f"cannot roll back to {to_revision}: this target has no record of what started it"
            )
        extra = known.extra if known else {}
        req = DeployRequest(
            service=to_revision,
            image=image,
            commit=str(entry.get("commit") or extra.get("commit") or ""),
            revision_name=to_revision,
            env={str(k): str(v) for k, v in (entry.get("env") or extra.get("env") or {}).items()},
        )
        self.deploy(req, log=lambda line: None)
        return self.traffic()

    def retire(self, revision_info: RevisionInfo) -> None:
        """Stop the revision's process group (SIGTERM, then SIGKILL); keep only what started it,
        so that a rollback can start it again."""
        with self._state() as state:
            if revision_info.name in (state.get(PROXY) or {}).get("backends", []):
                self._stop_proxy(state)  # it would send a share of its requests to nothing
        entry = self._entry(revision_info.name) or {}
        pid = entry.get("pid") or revision_info.extra.get("pid")
        if pid and group_is_led_by(int(pid)):
            group_stop(int(pid), grace=self.stop_grace)
        with self._state() as state:
            old = state.pop(revision_info.name, None) or {}
            if old.get("image") is not None:
                state[revision_info.name] = {
                    k: old[k] for k in ("image", "commit", "env") if k in old
                }
            if state.get(SERVING) == revision_info.name:
                state.pop(SERVING)

    # -- helpers -----------------------------------------------------------------------------

    def _split_through_proxy(
        self, state: dict[str, Any], stable: str, candidate: str, percent: int
    ) -> None:
        """Under the state lock: start the split proxy if none lives, then set its weights."""
        state[SERVING] = stable
        proxy: dict[str, Any] = state.get(PROXY) or {}
        started = not proxy or not group_alive(int(proxy.get("pid") or 0))
        if started:
            self._stop_proxy(state)  # a dead one's record
            proxy = state[PROXY] = self._start_proxy()
        backends = {stable: state[stable]["url"], candidate: state[candidate]["url"]}
        weights = {stable: 100 - percent, candidate: percent}
        try:
            response = httpx.put(
                proxy["url"] + CONTROL_PATH,
                json={"backends": backends, "traffic": weights},
                timeout=self.health_timeout,
            )
            response.raise_for_status()
        except BaseException as exc:
            if started:
                self._stop_proxy(state)
            if isinstance(exc, httpx.HTTPError):
                raise DeployError(
                    f"the split proxy at {proxy['url']} did not take the split "
                    f"{candidate} {percent} % / {stable} {100 - percent} %: {_why(exc)}"
                ) from None
            raise
        proxy["backends"] = sorted(backends)

    def _serve_alone(self, state: dict[str, Any], revision: str) -> None:
        """Under the state lock: ``revision`` takes all traffic, so no split proxy is left."""
        state[SERVING] = revision
        self._stop_proxy(state)

    def _traffic(self, state: dict[str, Any]) -> dict[str, int]:
        proxy = state.get(PROXY)
        if proxy:
            return self._proxy_traffic(proxy)
        serving = state.get(SERVING) or ""
        pid = (state.get(serving) or {}).get("pid")
        return {serving: 100} if pid and group_alive(pid) else {}

    def _proxy_traffic(self, proxy: dict[str, Any]) -> dict[str, int]:
        """The split the proxy reports, shares above 0 only."""
        try:
            response = httpx.get(proxy["url"] + CONTROL_PATH, timeout=self.health_timeout)
            response.raise_for_status()
            said = response.json()["traffic"]
            split = {str(name): int(share) for name, share in said.items()}
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeployError(
                f"the split proxy (pid {proxy.get('pid')}, {proxy.get('url')}) did not report "
                f"its split ({_why(exc)}), so where traffic goes cannot be told; split again "
                "or roll back, which stops it. Its output is in "
                f"{proxy.get('log_path')}"
            ) from None
        return {name: share for name, share in split.items() if share > 0}

    def _start_proxy(self) -> dict[str, Any]:
        """Start the split proxy in its own process group; return its record once it answers."""
        port = _free_port(self.host)
        url = f"http://{self.host}:{port}"
        log_path = self.state_dir / "_proxy.log"
        argv = [sys.executable, "-m", "engine.deploy.split_proxy"]
        argv += ["--host", self.host, "--port", str(port)]
        env = child_env({**UNBUFFERED, "PYTHONPATH": str(_ENGINE_ROOT)})
        with open(log_path, "ab") as out:
            try:
                proc = group_start(
                    argv,
                    cwd=str(_ENGINE_ROOT),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                raise DeployError(f"could not start the split proxy: {exc}") from None
        try:
            problem = self._wait_answers(proc, url + CONTROL_PATH)
        except BaseException:
            group_stop(proc.pid, grace=1.0)
            _reap(proc)
            raise
        if problem:
            group_stop(proc.pid, grace=1.0)
            _reap(proc)
            output = tail(_read_lines(log_path)) or "(no output)"
            raise DeployError(f"the split proxy {problem}. Last output:\n{output}")
        return {"pid": proc.pid, "port": port, "url": url, "log_path": str(log_path)}

    def _wait_answers(self, proc: subprocess.Popen[bytes], control_url: str) -> str:
        """Poll the proxy's control endpoint until it answers (''), or say why it never did."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = proc.poll()
            if code is not None:
                return f"exited with code {code} before answering at {control_url}"
            try:
                if httpx.get(control_url, timeout=self.health_timeout).is_success:
                    return ""
            except httpx.HTTPError:
                pass
            if time.monotonic() >= deadline:
                return f"did not answer at {control_url} within {self.start_timeout:g} s"
            time.sleep(min(self.poll_interval, 0.05))

    def _stop_proxy(self, state: dict[str, Any]) -> None:
        """Under the state lock: stop the recorded split proxy's group and forget it."""
        proxy = state.pop(PROXY, None) or {}
        pid = int(proxy.get("pid") or 0)
        if pid and group_is_led_by(pid):
            group_stop(pid, grace=min(self.stop_grace, 2.0))

    def _wait_healthy(
        self, proc: subprocess.Popen[bytes], health_url: str, log_path: Path, log: LogFn
    ) -> str:
        """Poll until healthy (return ''), or return why it never became healthy."""
        deadline = time.monotonic() + self.start_timeout
        shown = 0
        last = "no answer yet"
        with httpx.Client(timeout=self.health_timeout) as client:
            while True:
                shown = _forward_output(log_path, shown, log)
                code = proc.poll()
                if code is not None:
                    return f"exited with code {code} before becoming healthy at {health_url}"
                try:
                    response = client.get(health_url)
                    if response.is_success:
                        return ""
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                if time.monotonic() >= deadline:
                    return (
                        f"did not become healthy at {health_url} within "
                        f"{self.start_timeout:g} s (last answer: {last}); it was stopped"
                    )
                time.sleep(self.poll_interval)

    def _health_problem(self, health_url: str) -> str:
        try:
            response = httpx.get(health_url, timeout=self.health_timeout)
        except httpx.HTTPError as exc:
            return f"{health_url} did not answer: {type(exc).__name__}"
        return "" if response.is_success else f"{health_url} answered HTTP {response.status_code}"

    def _entry(self, revision: str) -> dict[str, Any] | None:
        with self._state() as state:
            return state.get(revision)

    @contextlib.contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """Yield the revision -> process map under an exclusive lock; write it back on exit."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        path = self.state_dir / "state.json"
        with open(self.state_dir / "state.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # several workers may deploy and retire at once
            try:
                state = json.loads(path.read_text()) if path.exists() else {}
            except ValueError:
                state = {}  # a torn file is not worth failing a deploy for; live pids re-register
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
                os.replace(tmp, path)


def _info(revision: str, entry: dict[str, Any], status: str) -> RevisionInfo:
    extra = {k: entry[k] for k in ("pid", "port", "log_path") if k in entry}
    return RevisionInfo(
        name=revision, url=entry["url"], status=status, image=entry.get("image", ""), extra=extra
    )


def _why(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} {exc.response.text.strip()}"
    return str(exc) or type(exc).__name__


def _free_port(host: str) -> int:
    """Ask the OS for a port nobody listens on (the child binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _reap(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def _forward_output(path: Path, offset: int, log: LogFn) -> int:
    """Send complete lines written after ``offset`` to ``log``; return the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except OSError:
        return offset
    end = chunk.rfind(b"\n") + 1
    for line in chunk[:end].decode(errors="replace").splitlines():
        log(line)
    return offset + end
