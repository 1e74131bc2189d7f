"""The deploy target interface: one shape for local processes, Cloud Run and operator commands.

Pure Python, no Django: the service layer passes plain config dicts and callbacks, and stores
what comes back (a RevisionInfo, a traffic split) in its own tables.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LogFn = Callable[[str], None]
OperationFn = Callable[[str], None]
# Called with the pid of a process a target starts (it leads its own process group), as soon as it
# runs and before the target waits on it: the caller records it to stop it if the caller dies.
StartFn = Callable[[int], None]

# Revision names follow Cloud Run's rules (DNS label, at most 63 characters) for every target.
_MAX_REVISION_NAME = 63
_TAIL_LINES = 20


class DeployError(Exception):
    """A deploy step failed; ``str(error)`` is a sentence meant for the user."""


@dataclass
class RevisionInfo:
    """What a target knows about one revision."""

    name: str
    url: str
    status: str  # 'ready' | 'failed' | 'pending' | 'retired'
    image: str = ""
    operation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployRequest:
    """One request to create a revision of ``service`` running ``image``."""

    service: str
    image: str
    commit: str = ""
    revision_name: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # A gated or canary release: the new revision takes no traffic when it is created, and the
    # RevisionInfo's url reaches it alone (Cloud Run: the tagged URL; local: its own port;
    # command: the url its JSON names). ``tag`` names that URL where the target has tags.
    no_traffic: bool = False
    tag: str = ""

    def __post_init__(self) -> None:
        if not self.revision_name:
            self.revision_name = make_revision_name(self.service)


class DeployTarget(ABC):
    """A place revisions are deployed to. Every failure raises DeployError and moves no traffic."""

    kind: str = ""

    @abstractmethod
    def deploy(
        self,
        req: DeployRequest,
        *,
        log: LogFn,
        on_operation: OperationFn | None = None,
        on_start: StartFn | None = None,
    ) -> RevisionInfo:
        """Create ``req.revision_name`` and return it once it is ready to serve. Targets that
        start processes pass each one's pid to ``on_start`` before waiting on it."""

    @abstractmethod
    def status(self, revision: str) -> RevisionInfo:
        """Report the current state of ``revision``."""

    @abstractmethod
    def set_traffic(self, revision: str, percent: int = 100, tag: str = "") -> dict[str, int]:
        """Send ``percent`` of traffic to ``revision``; return the new split {revision: percent}."""

    @abstractmethod
    def traffic(self) -> dict[str, int]:
        """The split the target reports now, {revision: percent} with shares above 0 only.

        Read from the target itself (not from what Stageloop last asked for), so a record made
        from it says what really serves. Raises DeployError when the target cannot tell."""

    def split(self, stable: str, candidate: str, percent: int, *, tag: str = "") -> dict[str, int]:
        """Send ``percent`` of traffic to ``candidate`` and the rest to ``stable``, in one call
        on the target: 100 promotes the candidate (``stable`` keeps 0 %), 0 sends everything
        back to ``stable``. Return the split the target reports afterwards.

        Raises DeployError when the target refuses or the call fails; the caller then reads
        ``traffic()`` to record where traffic really is."""
        raise DeployError(
            f"the {self.kind or 'this'} target cannot split traffic between revisions"
        )

    def rollback(self, to_revision: str, *, known: RevisionInfo | None = None) -> dict[str, int]:
        """Send all traffic back to ``to_revision``; return the new split. ``known`` is what the
        caller recorded about that revision (image, commit), for targets that start it again."""
        return self.set_traffic(to_revision, 100)

    def retire(self, revision_info: RevisionInfo) -> None:  # noqa: B027 - optional hook
        """Release what an old revision holds (a process, say). Targets without any do nothing.

        ``revision_info.status`` says why: 'failed' for a candidate that never became healthy,
        anything else for a good revision replaced by a newer one."""


def split_text(split: dict[str, int]) -> str:
    """``{"web-2": 100}`` as "web-2 (100 %)", biggest share first; "nothing" when empty."""
    if not split:
        return "nothing"
    ordered = sorted(split.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} ({percent} %)" for name, percent in ordered)


def make_revision_name(service: str) -> str:
    """Return a fresh revision name ``<service>-<yymmdd-hhmmss>-<8 hex>``, valid as a DNS label."""
    base = re.sub(r"[^a-z0-9-]+", "-", service.lower()).strip("-") or "rev"
    # 32 random bits: revisions named in the same second must not collide (unique per service).
    suffix = f"{datetime.now(UTC):%y%m%d-%H%M%S}-{secrets.token_hex(4)}"
    base = base[: _MAX_REVISION_NAME - len(suffix) - 1].rstrip("-")
    if not base[0].isalpha():
        base = f"r{base}"[: _MAX_REVISION_NAME - len(suffix) - 1]
    return f"{base}-{suffix}"


# Helpers shared by the targets that run commands (local, command).


def require_argv(command: Any, what: str = "command") -> list[str]:
    """Return ``command`` as an argument list, refusing shell strings and empty lists."""
    if isinstance(command, str) or not isinstance(command, list | tuple) or not command:
        raise DeployError(
            f"the deploy {what} must be a non-empty list of arguments such as "
            f'["./deploy.sh", "--env", "staging"], not {command!r}'
        )
    return [str(arg) for arg in command]


def tail(lines: Iterable[str], n: int = _TAIL_LINES) -> str:
    """Return the last ``n`` non-blank lines, joined, for error messages."""
    kept = [line.rstrip() for line in lines if line.strip()]
    return "\n".join(kept[-n:])


def require_names(names: Any, what: str = "pass_env") -> list[str]:
    """Return ``names`` (variables to pass from the dashboard's environment) as a list of names."""
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, list | tuple):
        raise DeployError(
            f"the deploy target's {what!r} must be a list of environment variable names such as "
            f'["GOOGLE_APPLICATION_CREDENTIALS"], not {names!r}'
        )
    bad = [name for name in names if not isinstance(name, str) or not name or "=" in name]
    if bad:
        raise DeployError(f"the deploy target's {what!r} has invalid variable names: {bad!r}")
    return list(names)
