"""Deploys to Google Cloud Run through the ``run_v2`` Admin API client.

A deploy updates the service template (image, a unique revision name), waits on the long-running
operation and checks that the new revision is the latest ready one. Traffic moves by rewriting the
service's traffic list. A gated candidate is deployed with no traffic and a tag, and is reached
alone on the tagged URL Cloud Run reports (``https://TAG---<service host>``).

Credentials come from Application Default Credentials only; a test (or an emulator) may point
``endpoint`` at a local server, which is then called anonymously over REST.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
from typing import Any, Literal, NoReturn

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.api_core.future.polling import DEFAULT_POLLING
from google.auth import exceptions as auth_exc
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2

from engine.deploy.base import (
    DeployError,
    DeployRequest,
    DeployTarget,
    LogFn,
    OperationFn,
    RevisionInfo,
    StartFn,
    split_text,
)

_SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED
_FAILED = run_v2.Condition.State.CONDITION_FAILED
_TO_REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
_TO_LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
LATEST = "LATEST"  # key of the traffic share that follows the latest ready revision
# A tag and the service name together form the first DNS label of the tagged URL: Cloud Run
# allows 46 characters for both.
_MAX_TAG_AND_SERVICE = 46
_TAG = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class CloudRunTarget(DeployTarget):
    """One Cloud Run service. Clients are built on first use: gRPC channels do not survive fork."""

    kind = "cloudrun"

    def __init__(self, config: dict[str, Any]) -> None:
        missing = [key for key in ("project", "region", "service") if not config.get(key)]
        if missing:
            raise DeployError(f"the cloudrun target needs {', '.join(missing)} in its settings")
        self.project = str(config["project"])
        self.region = str(config["region"])
        self.service = str(config["service"])
        self.timeout = float(config.get("timeout", 600))
        self.rpc_timeout = float(config.get("rpc_timeout", 30))
        self.poll_interval = float(config.get("poll_interval", 2))
        self.endpoint = config.get("endpoint") or ""
        self.transport = config.get("transport") or ("rest" if self.endpoint else None)
        # Like `gcloud run deploy --no-traffic`: the new revision starts with 0 %.
        self.no_traffic = bool(config.get("no_traffic", False))
        self._clients: dict[str, Any] = {}
        self._clients_pid = 0

    @property
    def name(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/services/{self.service}"

    @property
    def services(self) -> run_v2.ServicesClient:
        return self._client("services", run_v2.ServicesClient)

    @property
    def revisions(self) -> run_v2.RevisionsClient:
        return self._client("revisions", run_v2.RevisionsClient)

    # -- the DeployTarget interface ---------------------------------------------------------

    def deploy(
        self,
        req: DeployRequest,
        *,
        log: LogFn,
        on_operation: OperationFn | None = None,
        on_start: StartFn | None = None,  # Cloud Run starts no local process
    ) -> RevisionInfo:
        """Roll out ``req.image`` as revision ``req.revision_name`` and wait until it is ready."""
        revision = req.revision_name
        if not revision.startswith(f"{self.service}-"):
            # Cloud Run requires revision names to start with the service name.
            revision = f"{self.service}-{revision}"
        no_traffic = req.no_traffic or self.no_traffic
        room = _MAX_TAG_AND_SERVICE - len(self.service)
        tag = self._check_tag(req.tag or _default_tag(revision, room)) if no_traffic else ""
        with self._errors("reading", revision=revision):
            service = self.services.get_service(name=self.name, timeout=self.rpc_timeout)
        if not service.template.containers:
            raise DeployError(f"Cloud Run service {self.name} has no container to update")
        container = service.template.containers[0]
        container.image = req.image
        _merge_env(container, req.env)
        service.template.revision = revision
        if no_traffic:
            service.traffic = [*self._pinned(service, revision, tag), _target(revision, 0, tag)]
        log(f"updating {self.name}: image {req.image}, revision {revision}")
        with self._errors("updating", revision=revision):
            op = self.services.update_service(service=service, timeout=self.rpc_timeout)
        operation = op.operation.name
        if on_operation:
            on_operation(operation)
        log(f"waiting for operation {operation}")
        result = self._wait(op, operation, revision)
        if (
            result.terminal_condition.state != _SUCCEEDED
            or not result.latest_ready_revision.endswith(revision)
        ):
            why = result.terminal_condition.message or "no reason given"
            raise DeployError(
                f"Cloud Run did not make {revision} ready (latest ready revision is "
                f"{result.latest_ready_revision or 'none'}): {why}"
            )
        split = _split(result)
        extra: dict[str, Any] = {"traffic": split}
        url = result.uri
        if no_traffic:
            url, extra["tag"] = _tag_uri(result, tag), tag
            if not url:
                raise DeployError(
                    f"Cloud Run reports no URL for tag {tag} of {revision}, so the candidate "
                    f"cannot be tested on its own; it serves no traffic ({split_text(split)} "
                    "still do)"
                )
        log(f"{revision} is ready at {url}; traffic {split_text(split)}")
        return RevisionInfo(
            name=revision,
            url=url,
            status="ready",
            image=req.image,
            operation=operation,
            extra=extra,
        )

    def status(self, revision: str) -> RevisionInfo:
        """Read ``revision`` and map its Ready condition to ready / failed / pending."""
        with self._errors("reading", revision=revision, missing="revision"):
            rev = self.revisions.get_revision(name=self._revision_path(revision))
        ready = next((c for c in rev.conditions if c.type_ == "Ready"), None)
        if ready is not None and ready.state == _SUCCEEDED:
            status = "ready"
        elif ready is not None and ready.state == _FAILED:
            status = "failed"
        else:
            status = "pending"
        image = rev.containers[0].image if rev.containers else ""
        extra = {"reason": ready.message} if ready is not None and ready.message else {}
        return RevisionInfo(name=revision, url="", status=status, image=image, extra=extra)

    def list_revisions(self, page_size: int = 100) -> list[str]:
        """Names of every revision of the service, newest first as Cloud Run lists them."""
        with self._errors("listing revisions of"):
            pages = self.revisions.list_revisions(
                request={"parent": self.name, "page_size": page_size}, timeout=self.rpc_timeout
            )
            return [rev.name.rsplit("/", 1)[-1] for rev in pages]

    def set_traffic(self, revision: str, percent: int = 100, tag: str = "") -> dict[str, int]:
        """Pin ``percent`` to ``revision`` (tagged ``tag``); the rest stays on the biggest
        other share. Pinned traffic stays pinned: see ``send_to_latest``."""
        if not 0 < percent <= 100:
            raise DeployError(f"a traffic share must be between 1 and 100 %, not {percent}")
        with self._errors("reading", revision=revision):
            service = self.services.get_service(name=self.name, timeout=self.rpc_timeout)
        targets = [_target(revision, percent, tag)]
        if percent < 100:
            others = {r: p for r, p in _split(service).items() if r != revision and p}
            previous = max(others, key=lambda r: others[r]) if others else ""
            # Right after a deploy the new revision holds everything: the rest goes back to
            # the newest other ready revision.
            previous = previous or self._previous_ready(revision)
            targets.append(_target(previous, 100 - percent))
        return self._update_traffic(service, targets, revision)

    def split(self, stable: str, candidate: str, percent: int, *, tag: str = "") -> dict[str, int]:
        """Send ``percent`` to ``candidate`` and the rest to ``stable`` in one service update.

        The candidate keeps its tag (``tag``, else the one it has) at every share, 0 % included,
        so its URL serves until ``retire`` removes it. Other tags stay, at 0 %; any share held
        by a third revision goes. If the update or its operation fails, Cloud Run leaves the
        traffic as it was and this raises DeployError."""
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise DeployError(
                "the candidate's share of traffic must be a whole number between 0 and 100 %, "
                f"not {percent!r}"
            )
        if not stable or not candidate or stable == candidate:
            raise DeployError(
                f"a traffic split needs two different revisions, not {stable!r} and {candidate!r}"
            )
        if tag:
            self._check_tag(tag)
        with self._errors("reading", revision=candidate):
            service = self.services.get_service(name=self.name, timeout=self.rpc_timeout)
        own = (t.tag for t in service.traffic if t.revision == candidate and t.tag)
        tag = tag or next(own, "")
        kept = [
            run_v2.TrafficTarget(type_=t.type_, revision=t.revision, tag=t.tag)
            for t in service.traffic
            if t.tag and t.tag != tag
        ]
        targets = [_target(stable, 100 - percent)] if percent < 100 else []
        if percent or tag:
            targets.append(_target(candidate, percent, tag))
        return self._update_traffic(service, targets + kept, candidate)

    def rollback(self, to_revision: str, *, known: RevisionInfo | None = None) -> dict[str, int]:
        """Send 100 % to ``to_revision`` after checking that it exists."""
        self.status(to_revision)
        return self.set_traffic(to_revision, 100)

    def traffic(self) -> dict[str, int]:
        """The service's split as Cloud Run reports it (its traffic statuses)."""
        with self._errors("reading"):
            service = self.services.get_service(name=self.name, timeout=self.rpc_timeout)
        return _split(service)

    def retire(self, revision_info: RevisionInfo) -> None:
        """Retire a revision that no longer serves; refuse one that still holds traffic.

        What retiring means on Cloud Run (a revision costs nothing while it serves nothing):

        - a failed candidate (``status == "failed"``, it never became healthy) is deleted with
          ``RevisionsClient.delete_revision``: nobody should roll back to it;
        - any other revision (an old good one, or a candidate its gate refused) is kept at
          0 %, so that it can be rolled back to or looked at; only its tags are removed from
          the service's traffic list (a tag keeps a URL serving it).

        Either way the service is read first: a revision that still holds a share raises
        DeployError (move the traffic off it first), and a revision already gone is retired.
        """
        name = revision_info.name
        with self._errors("reading", revision=name):
            service = self.services.get_service(name=self.name, timeout=self.rpc_timeout)
        share = _split(service).get(name, 0)
        if share:
            raise DeployError(
                f"cannot retire {name}: {name} still serves {share} % of {self.name}; "
                "move the traffic off it first"
            )
        tagged = [t for t in service.traffic if t.type_ == _TO_REVISION and t.revision == name]
        if tagged:
            kept = [
                t for t in service.traffic if not (t.type_ == _TO_REVISION and t.revision == name)
            ]
            self._update_traffic(service, kept, name)
        if revision_info.status != "failed":
            return
        try:
            with self._errors("deleting", revision=name, missing="revision"):
                op = self.revisions.delete_revision(
                    name=self._revision_path(name), timeout=self.rpc_timeout
                )
                self._wait(op, op.operation.name, name)
        except DeployError as exc:
            if isinstance(exc.__cause__, gexc.NotFound):
                return  # already deleted
            raise

    def send_to_latest(self) -> dict[str, int]:
        """Unpin traffic: 100 % follows the latest ready revision again."""
        with self._errors("reading"):
            service = self.services.get_service(name=self.name, timeout=self.rpc_timeout)
        return self._update_traffic(service, [run_v2.TrafficTarget(type_=_TO_LATEST, percent=100)])

    # -- helpers -----------------------------------------------------------------------------

    def _check_tag(self, tag: str) -> str:
        """Return ``tag``, or raise DeployError if Cloud Run would refuse it on this service."""
        if not _TAG.match(tag) or len(tag) + len(self.service) > _MAX_TAG_AND_SERVICE:
            raise DeployError(
                f"Cloud Run cannot use the traffic tag {tag!r}: a tag is lowercase letters, "
                "digits and dashes, starts with a letter, does not end with a dash, and is at "
                f"most {_MAX_TAG_AND_SERVICE - len(self.service)} characters for service "
                f"{self.service}; choose a shorter or simpler tag"
            )
        return tag

    def _pinned(
        self, service: run_v2.Service, revision: str, tag: str
    ) -> list[run_v2.TrafficTarget]:
        """The service's traffic list as it serves now, with every LATEST entry pinned to the
        revision it reaches (or else it would follow ``revision`` once ready) and ``tag`` taken
        off any entry that carries it (it moves to ``revision``)."""
        latest = service.latest_ready_revision.rsplit("/", 1)[-1]
        entries = list(service.traffic) or [_target(LATEST, 100)]
        pinned: list[run_v2.TrafficTarget] = []
        for entry in entries:
            name = entry.revision if entry.type_ == _TO_REVISION else latest
            if not name:
                raise DeployError(
                    f"cannot deploy {revision} without traffic: {self.name} has no ready "
                    "revision to keep the traffic on; deploy its first revision without a "
                    "release gate"
                )
            kept_tag = "" if entry.tag == tag else entry.tag
            if entry.percent or kept_tag:  # an entry with no share and no tag does nothing
                pinned.append(_target(name, entry.percent, kept_tag))
        return pinned

    def _update_traffic(
        self, service: run_v2.Service, targets: list[run_v2.TrafficTarget], revision: str = ""
    ) -> dict[str, int]:
        service.traffic = targets
        with self._errors("moving traffic of", revision=revision):
            op = self.services.update_service(service=service, timeout=self.rpc_timeout)
        return _split(self._wait(op, op.operation.name, revision))

    def _wait(self, op: Any, operation: str, revision: str) -> run_v2.Service:
        """Wait for ``op`` within the deploy timeout, polling every ``poll_interval`` seconds."""
        polling = DEFAULT_POLLING.with_delay(
            initial=self.poll_interval, maximum=self.poll_interval, multiplier=1.0
        )
        try:
            with self._errors("waiting on", revision=revision):
                return op.result(timeout=self.timeout, polling=polling)
        except concurrent.futures.TimeoutError:
            raise DeployError(
                f"timed out after {self.timeout:g} s waiting for operation {operation}; "
                "it may still finish in Cloud Run, check the service before deploying again"
            ) from None

    def _previous_ready(self, revision: str) -> str:
        """The newest ready revision other than ``revision``, or DeployError if there is none."""
        with self._errors("listing revisions of"):
            pages = self.revisions.list_revisions(
                request={"parent": self.name, "page_size": 50}, timeout=self.rpc_timeout
            )
            revisions = sorted(pages, key=_created, reverse=True)
        for rev in revisions:
            name = rev.name.rsplit("/", 1)[-1]
            ready = any(c.type_ == "Ready" and c.state == _SUCCEEDED for c in rev.conditions)
            if name != revision and ready:
                return name
        raise DeployError(
            f"cannot keep the rest of the traffic off {revision}: {self.name} has no other "
            "ready revision"
        )

    def _revision_path(self, revision: str) -> str:
        return f"{self.name}/revisions/{revision}"

    def _client(self, key: str, cls: type) -> Any:
        if self._clients_pid != os.getpid():  # forked since: the old channels are unusable
            self._clients, self._clients_pid = {}, os.getpid()
        if key not in self._clients:
            kwargs: dict[str, Any] = {}
            if self.transport:
                kwargs["transport"] = self.transport
            if self.endpoint:
                kwargs["credentials"] = AnonymousCredentials()
                kwargs["client_options"] = ClientOptions(api_endpoint=self.endpoint)
            with self._errors("connecting to"):
                self._clients[key] = cls(**kwargs)
        return self._clients[key]

    def _errors(self, doing: str, *, revision: str = "", missing: str = "service") -> _Explain:
        return _Explain(self, doing, revision, missing)


class _Explain:
    """Turns client exceptions into DeployError sentences that say what to do."""

    def __init__(self, target: CloudRunTarget, doing: str, revision: str, missing: str) -> None:
        self.target, self.doing, self.revision, self.missing = target, doing, revision, missing

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> Literal[False]:
        if exc is None or isinstance(exc, DeployError | concurrent.futures.TimeoutError):
            return False
        if isinstance(exc, gexc.GoogleAPIError | auth_exc.GoogleAuthError):  # RetryError too
            self._raise(exc)
        return False

    def _raise(self, exc: Exception) -> NoReturn:
        t, said = self.target, getattr(exc, "message", None) or str(exc)
        if isinstance(exc, auth_exc.DefaultCredentialsError):
            msg = (
                "no Google credentials found: run `gcloud auth application-default login` or "
                "set GOOGLE_APPLICATION_CREDENTIALS for the worker"
            )
        elif isinstance(exc, gexc.NotFound) and self.missing == "revision":
            msg = f"revision {self.revision} not found in Cloud Run service {t.name}"
        elif isinstance(exc, gexc.NotFound):
            msg = (
                f"Cloud Run service {t.name} not found in region {t.region}; check the project, "
                f"region and service name in the deploy settings ({said})"
            )
        elif isinstance(exc, gexc.Forbidden | gexc.Unauthorized):
            msg = (
                f"permission denied {self.doing} {t.name}: the deploying identity needs the IAM "
                f"role roles/run.developer (and roles/iam.serviceAccountUser on the runtime "
                f"service account) ({said})"
            )
        elif isinstance(exc, gexc.Conflict) and self.revision:
            msg = (
                f"revision name {self.revision} already exists in {t.name}; "
                f"deploy again with a new revision name ({said})"
            )
        elif isinstance(exc, gexc.DeadlineExceeded | gexc.RetryError):
            msg = f"timed out {self.doing} {t.name}: {said}"
        elif self.doing == "waiting on":
            msg = f"the Cloud Run operation on {t.name} failed: {said}"
        else:
            msg = f"Cloud Run failed {self.doing} {t.name}: {said}"
        raise DeployError(msg) from exc


def _target(revision: str, percent: int, tag: str = "") -> run_v2.TrafficTarget:
    if revision == LATEST:
        return run_v2.TrafficTarget(type_=_TO_LATEST, percent=percent, tag=tag)
    return run_v2.TrafficTarget(type_=_TO_REVISION, revision=revision, percent=percent, tag=tag)


def _split(service: run_v2.Service) -> dict[str, int]:
    """The service's traffic as {revision: percent}, resolving 'latest' to a revision name."""
    latest = service.latest_ready_revision.rsplit("/", 1)[-1] or LATEST
    split: dict[str, int] = {}
    for entry in service.traffic_statuses or service.traffic:
        if not entry.percent:
            continue  # tag-only entries carry no traffic
        name = entry.revision if entry.type_ == _TO_REVISION else latest
        split[name] = split.get(name, 0) + entry.percent
    return split


def _default_tag(revision: str, room: int) -> str:
    """``c-`` and the revision's random suffix, cut to ``room`` characters (3 at least): short,
    and different for every candidate."""
    suffix = revision.rsplit("-", 1)[-1]
    if not re.fullmatch(r"[0-9a-f]{8}", suffix):  # a name not made by make_revision_name
        suffix = hashlib.sha256(revision.encode()).hexdigest()[:8]
    return f"c-{suffix}"[: max(room, 3)]


def _tag_uri(service: run_v2.Service, tag: str) -> str:
    """The URL Cloud Run reports for ``tag`` in the service's traffic statuses, or ""."""
    return next((s.uri for s in service.traffic_statuses if s.tag == tag and s.uri), "")


def _merge_env(container: run_v2.Container, env: dict[str, str]) -> None:
    """Set ``env`` on the container, replacing variables of the same name."""
    kept = [var for var in container.env if var.name not in env]
    container.env = kept + [run_v2.EnvVar(name=k, value=v) for k, v in env.items()]


def _created(revision: run_v2.Revision) -> float:
    return revision.create_time.timestamp() if revision.create_time else 0.0
