"""Traffic as the deploy target reports it: read it, record it, and move it back.

A deploy and a rollback never write a traffic figure of their own: they ask the target
(``DeployTarget.traffic()``) and store what it said, on the Deploy (``traffic_before`` /
``traffic_after``, a list of ``{"revision", "percent"}``) and on the Revision rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.deploy import DeployError, DeployTarget, RevisionInfo, split_text
from runs.models import Revision, Service

logger = logging.getLogger(__name__)


@dataclass
class TrafficRead:
    """What the target said: its split, or why it could not say."""

    split: dict[str, int]
    problem: str = ""

    @property
    def known(self) -> bool:
        return not self.problem

    def as_json(self) -> list[dict]:
        """The Deploy's traffic shape, biggest share first; empty when the target could not say."""
        ordered = sorted(self.split.items(), key=lambda item: (-item[1], item[0]))
        return [{"revision": name, "percent": percent} for name, percent in ordered]

    def text(self) -> str:
        """ "web-2 (100 %)", or why the split is unknown."""
        if self.problem:
            return f"unknown (could not read it: {self.problem})"
        return split_text(self.split)


def traffic_read(target: DeployTarget) -> TrafficRead:
    """Ask the target where traffic goes now; a failure is recorded, never raised."""
    try:
        return TrafficRead(target.traffic())
    except DeployError as exc:
        return TrafficRead({}, str(exc))
    except Exception as exc:  # the record must still be written
        logger.exception("reading traffic failed")
        return TrafficRead({}, repr(exc))


def revisions_traffic_record(*, service: Service, read: TrafficRead) -> None:
    """Make every Revision row of ``service`` say the share the target reported (0 if none)."""
    if not read.known:
        return
    service.revisions.exclude(name__in=list(read.split)).exclude(traffic_percent=0).update(
        traffic_percent=0
    )
    for name, percent in read.split.items():
        service.revisions.filter(name=name).update(traffic_percent=min(100, percent))


def serving_revision(*, service: Service, read: TrafficRead) -> Revision | None:
    """The recorded revision holding the biggest share the target reported, if any."""
    for name, _percent in sorted(read.split.items(), key=lambda item: -item[1]):
        revision = service.revisions.filter(name=name).first()
        if revision is not None:
            return revision
    return None


def revision_info(revision: Revision, status: str = "ready") -> RevisionInfo:
    """What Stageloop recorded about ``revision``, in the target's terms."""
    state = dict(revision.target_state or {})
    state.setdefault("commit", revision.commit_sha)
    state.setdefault("env", {"STAGELOOP_SERVICE": revision.service.name})
    return RevisionInfo(
        name=revision.name, url=revision.url, status=status, image=revision.image, extra=state
    )


def target_retire(target: DeployTarget, revision: Revision, *, status: str = "ready") -> str:
    """Retire ``revision`` on the target; return '' or why it could not be retired."""
    try:
        target.retire(revision_info(revision, status))
    except DeployError as exc:
        logger.warning("could not retire revision %s: %s", revision.name, exc)
        return str(exc)
    return ""


def target_rollback(target: DeployTarget, to: Revision) -> str:
    """Send all traffic to ``to`` on the target; return '' or why the call failed. When the
    target started ``to`` again (a local process), its new URL and state are recorded."""
    try:
        target.rollback(to.name, known=revision_info(to))
    except DeployError as exc:
        return str(exc)
    except Exception as exc:
        logger.exception("rollback to %s crashed", to.name)
        return f"Stageloop failed while rolling back: {exc!r}"
    try:
        info = target.status(to.name)
    except DeployError:
        return ""  # a target that cannot report a revision keeps what was recorded
    if info.url and (info.url != to.url or info.extra != to.target_state):
        Revision.objects.filter(pk=to.pk).update(url=info.url, target_state=info.extra)
        to.url, to.target_state = info.url, info.extra
    return ""
