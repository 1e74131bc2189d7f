"""The operator's own deploy command (a script, ``gcloud run deploy ...``, ``kubectl ...``).

Contract with the command: it gets STAGELOOP_IMAGE, STAGELOOP_COMMIT, STAGELOOP_SERVICE and
STAGELOOP_REVISION in its environment, and its last non-empty output line is a JSON object
``{"revision": "...", "url": "..."}`` naming what it deployed. Any other exit is a failure.

A gated or canary release deploys with no traffic: the command also gets STAGELOOP_NO_TRAFFIC=1
and STAGELOOP_TAG (the tag to reach the candidate by, possibly empty; also set whenever a
request names a tag). It must create the revision without moving traffic to it, and its ``url``
must reach that revision alone (a tagged URL, say): the suite and probes run there before any
user traffic does, so a no-traffic deploy whose JSON has no ``url`` is a failure.

Moving traffic: ``traffic_command`` gets STAGELOOP_REVISION, STAGELOOP_TRAFFIC_PERCENT and
STAGELOOP_TRAFFIC_TAG. From ``set_traffic`` (a promotion or a rollback) it sends that percent to
that revision. From ``split`` (a canary step) it also gets STAGELOOP_STABLE_REVISION and must
send the percent to STAGELOOP_REVISION and the rest to the stable revision, in one change: 0
sends everything back to the stable revision, 100 promotes the candidate.

Traffic, as the target reports it (``traffic()``): the optional ``read_traffic_command`` prints
the current split as its last line, ``{"traffic": {"<revision>": <percent>, ...}}`` (or the bare
map). Without one, the split is the last one a command of this deploy reported: the deploy
command's ``"traffic"`` key, or the traffic command's last line in the same shape. A traffic
command that prints no split is taken to have set what it was asked: ``{revision: percent}``
from ``set_traffic``, ``{candidate: percent, stable: 100 - percent}`` from ``split`` (shares
above 0 only, so 100 gives ``{candidate: 100}`` and 0 gives ``{stable: 100}``). With neither,
the target says it cannot tell (DeployError), and the deploy records no split, not a guess.

Its environment is not the dashboard's: ``engine.childenv`` gives it an allowlist (PATH, HOME,
locale, temp dir, proxies, CA bundles, virtualenv), the names listed in the target's
``pass_env``, the target's ``env``, then the STAGELOOP_* values above. Cloud credentials
(``GOOGLE_APPLICATION_CREDENTIALS``, ``CLOUDSDK_*``, ...) pass only when ``pass_env`` lists
them: the dashboard's credentials are for its cloudrun target, and a script should get only what
its admin chose. ``gcloud`` logged in as the worker's user still works (its config is under HOME).
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections import deque
from typing import IO, Any, NoReturn

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
from engine.processes import group_start, group_stop

_EOF = None


class CommandTarget(DeployTarget):
    """Deploys by running an argument list; traffic moves only through ``traffic_command``."""

    kind = "command"

    def __init__(self, config: dict[str, Any]) -> None:
        self.command = require_argv(config.get("command"))
        # Optional: a command that moves traffic, given STAGELOOP_TRAFFIC_PERCENT / _TAG.
        traffic = config.get("traffic_command")
        self.traffic_command = require_argv(traffic, "traffic command") if traffic else None
        # Optional: a command that prints the current split (see the module's docstring).
        reader = config.get("read_traffic_command")
        self.read_traffic_command = require_argv(reader, "read traffic command") if reader else None
        self._last_split: dict[str, int] | None = None
        self.cwd = config.get("cwd") or None
        self.timeout = float(config.get("timeout", 900))
        self.env = {str(k): str(v) for k, v in (config.get("env") or {}).items()}
        # Names of the dashboard's own variables the command may see (see engine.childenv).
        self.pass_env = require_names(config.get("pass_env"))

    def deploy(
        self,
        req: DeployRequest,
        *,
        log: LogFn,
        on_operation: OperationFn | None = None,
        on_start: StartFn | None = None,
    ) -> RevisionInfo:
        """Run the deploy command and return the revision named on its last output line."""
        own = {
            "STAGELOOP_IMAGE": req.image,
            "STAGELOOP_COMMIT": req.commit,
            "STAGELOOP_SERVICE": req.service,
            "STAGELOOP_REVISION": req.revision_name,
        }
        if req.no_traffic:
            own["STAGELOOP_NO_TRAFFIC"] = "1"
        if req.no_traffic or req.tag:
            own["STAGELOOP_TAG"] = req.tag
        lines = self._run(self.command, own, log, on_operation, env=req.env, on_start=on_start)
        last = next((line for line in reversed(lines) if line.strip()), "")
        try:
            result = json.loads(last)
            if not isinstance(result, dict) or not result.get("revision"):
                raise ValueError
        except ValueError:
            raise DeployError(
                "the deploy command succeeded but its last output line is not "
                '{"revision": "...", "url": "..."}; print that JSON as its final line. '
                f"Last output:\n{tail(lines) or '(no output)'}"
            ) from None
        if req.no_traffic and not result.get("url"):
            raise DeployError(
                f"the deploy command created {result['revision']} with no traffic but named no "
                "URL for it: a gated candidate must be reachable on its own URL, so print it as "
                '"url" in the final JSON line (a tagged URL, say)'
            )
        extra = {k: v for k, v in result.items() if k not in ("revision", "url")}
        if "traffic" in result:
            self._last_split = _parse_split(result, "the deploy command")
        return RevisionInfo(
            name=str(result["revision"]),
            url=str(result.get("url") or ""),
            status="ready",
            image=req.image,
            extra=extra,
        )

    def status(self, revision: str) -> RevisionInfo:
        """A deploy command cannot be asked about a revision; report that plainly."""
        raise DeployError(
            "the command target cannot report a revision's status; probe the revision's URL instead"
        )

    def set_traffic(self, revision: str, percent: int = 100, tag: str = "") -> dict[str, int]:
        """Run ``traffic_command`` to send ``percent`` to ``revision``; return the new split."""
        own = {
            "STAGELOOP_REVISION": revision,
            "STAGELOOP_TRAFFIC_PERCENT": str(percent),
            "STAGELOOP_TRAFFIC_TAG": tag,
        }
        return self._move_traffic(own, asked={revision: percent})

    def split(self, stable: str, candidate: str, percent: int, *, tag: str = "") -> dict[str, int]:
        """Run ``traffic_command`` with both revisions; return the split it prints, else the one
        asked for (see the module's docstring)."""
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise DeployError(f"a traffic split must be between 0 and 100 %, not {percent!r}")
        own = {
            "STAGELOOP_REVISION": candidate,
            "STAGELOOP_STABLE_REVISION": stable,
            "STAGELOOP_TRAFFIC_PERCENT": str(percent),
            "STAGELOOP_TRAFFIC_TAG": tag,
        }
        return self._move_traffic(own, asked={candidate: percent, stable: 100 - percent})

    def _move_traffic(self, own: dict[str, str], *, asked: dict[str, int]) -> dict[str, int]:
        """Run ``traffic_command`` with ``own``; its printed split, else ``asked`` (shares > 0)."""
        if not self.traffic_command:
            raise DeployError(
                "the command target has no traffic command configured; add 'traffic_command' "
                "(an argument list) to the service's deploy settings to move traffic or roll back"
            )
        lines = self._run(
            self.traffic_command, own, lambda line: None, None, what="traffic command"
        )
        said = _last_json(lines)
        self._last_split = (
            _parse_split(said, "the traffic command")
            if said is not None
            else {name: share for name, share in asked.items() if share > 0}
        )
        return dict(self._last_split)

    def traffic(self) -> dict[str, int]:
        """The split ``read_traffic_command`` prints, else the last one a command reported."""
        if self.read_traffic_command:
            lines = self._run(self.read_traffic_command, {}, lambda line: None, None)
            said = _last_json(lines)
            if said is None:
                raise DeployError(
                    "the read traffic command's last output line is not JSON such as "
                    '{"traffic": {"web-7": 100}}. Last output:\n' + (tail(lines) or "(no output)")
                )
            return _parse_split(said, "the read traffic command")
        if self._last_split is not None:
            return dict(self._last_split)
        raise DeployError(
            "the command target cannot tell where traffic goes: add 'read_traffic_command' (an "
            'argument list printing {"traffic": {"<revision>": <percent>}}) to the deploy settings'
        )

    def _run(
        self,
        argv: list[str],
        own_env: dict[str, str],
        log: LogFn,
        on_operation: OperationFn | None,
        *,
        env: dict[str, str] | None = None,
        on_start: StartFn | None = None,
        what: str = "deploy command",
    ) -> list[str]:
        """Run ``argv`` in its own process group, streaming lines to ``log``; return them all.

        Its environment: the allowlist, ``pass_env``, the target's ``env`` and ``env``, then
        ``own_env`` (see ``engine.childenv``)."""
        try:
            # Its own process group, so a timeout can stop the command and all it started.
            proc = group_start(
                argv,
                cwd=self.cwd,
                env=child_env(
                    {**UNBUFFERED, **self.env, **(env or {})}, pass_env=self.pass_env, own=own_env
                ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise DeployError(f"could not start the {what} {argv[0]!r}: {exc}") from None
        if on_start:
            try:
                on_start(proc.pid)
            except BaseException:
                group_stop(proc.pid, grace=5)
                proc.wait()
                raise
        if on_operation:
            on_operation(f"pid:{proc.pid}")
        assert proc.stdout is not None
        # A reader thread feeds a queue so that log() is always called on the caller's thread.
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        kept: deque[str] = deque(maxlen=2000)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
            except queue.Empty:
                line = ""
            if line is _EOF:
                break
            if line:
                kept.append(line)
                log(line)
            if time.monotonic() >= deadline:
                self._stop(proc, kept, what)
        try:
            # The output can end before the process does; the deadline still holds.
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._stop(proc, kept, what)
        if code != 0:
            raise DeployError(
                f"the {what} {argv[0]!r} failed with exit code {code}. "
                f"Last output:\n{tail(kept) or '(no output)'}"
            )
        return list(kept)

    def _stop(self, proc: subprocess.Popen[bytes], kept: deque[str], what: str) -> NoReturn:
        """Stop the timed-out command's whole group and raise with its last output."""
        group_stop(proc.pid, grace=5)
        proc.wait()
        raise DeployError(
            f"the {what} timed out after {self.timeout:g} s and was stopped. "
            f"Last output:\n{tail(kept) or '(no output)'}"
        )


def _last_json(lines: list[str]) -> dict[str, Any] | None:
    """The last non-empty line as a JSON object, or None."""
    last = next((line for line in reversed(lines) if line.strip()), "")
    try:
        value = json.loads(last)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _parse_split(said: dict[str, Any], who: str) -> dict[str, int]:
    """{revision: percent} from ``{"traffic": {...}}`` or the bare map; shares above 0 only."""
    split = said.get("traffic", said)
    try:
        if not isinstance(split, dict):
            raise ValueError
        parsed = {str(name): int(percent) for name, percent in split.items()}
    except (TypeError, ValueError):
        raise DeployError(
            f'{who} reported traffic {split!r}; expected {{"<revision>": <percent>, ...}}'
        ) from None
    return {name: percent for name, percent in parsed.items() if percent > 0}


def _pump(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    with stream:
        for raw in stream:
            lines.put(raw.decode(errors="replace").rstrip("\r\n"))
    lines.put(_EOF)
