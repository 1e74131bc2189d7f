"""The release: what a gated or canary deploy does with traffic once the gate has judged.

A gated deploy created its candidate with no traffic (runs.services.deploy_step) and ran the suite
against the candidate's own URL; the gate judged that run (runs.services.gates). Here:

- the verdict passes (or the policy is a dry run) → the candidate is promoted: one call on the
  target moves all traffic to it, and the revision that served before is retired;
- it fails or is inconclusive, or an operator aborted → traffic never moved: the candidate is
  retired (kept at 0 % on Cloud Run so an operator can still promote it, stopped locally) and the
  deploy says where traffic is;
- canary → first the gated checks, then each step below 100 % sends that share to the candidate,
  probes both revisions every second for the step's hold, and compares them
  (runs.services.canary); a failed or inconclusive step sends everything back at once.

The deploy stays running (and leased) throughout, so no other deploy, promotion or rollback of the
service can start meanwhile. Every traffic figure recorded is read back from the target.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from engine.deploy import DeployError
from runs.health_seam import revisions_probe_compare
from runs.integrations_seam import release_rolled_back
from runs.lifecycle.deploys import deploy_lifecycle
from runs.models import Deploy, Revision, Service, TestRun, Verdict
from runs.selectors.gates import gate_policy_for
from runs.services.canary import canary_not_applicable, canary_verdict
from runs.services.deploy_step import release_tag, target_for
from runs.services.logbuffer import LogBuffer
from runs.services.traffic import (
    TrafficRead,
    revisions_traffic_record,
    serving_revision,
    target_retire,
    traffic_read,
)

logger = logging.getLogger(__name__)


def release_decide(*, deploy: Deploy, candidate: Revision, run: TestRun | None) -> None:
    """Act on the before-traffic verdict of ``run`` for a gated or canary deploy."""
    deploy = Deploy.objects.select_related("service", "previous_revision").get(pk=deploy.pk)
    if deploy.status != Deploy.Status.RUNNING or deploy.release != Deploy.Release.TESTING:
        return  # ended meanwhile (the sweeper, a cancel): nothing to decide
    verdict = Verdict.objects.filter(run_id=run.pk, stage="before_traffic").first() if run else None
    log = LogBuffer(Deploy, deploy.pk, initial=deploy.log)  # after the deploy step's lines
    try:
        target = target_for(deploy.service)
    except DeployError as exc:
        _end(deploy, Deploy.Release.FAILED, f"The release could not reach the target: {exc}", log)
        return
    release = _Release(deploy, candidate, target, log)
    release.decide(verdict, run)


def release_abort_request(*, deploy: Deploy, who: str, reason: str) -> bool:
    """Ask the release in progress to roll back at once (an operator's emergency path); its
    chain checks every probe interval. False when the deploy is not in a release."""
    note = f"{who}: {reason}" if reason else who
    return bool(
        Deploy.objects.filter(
            pk=deploy.pk,
            status=Deploy.Status.RUNNING,
            release__in=[Deploy.Release.TESTING, Deploy.Release.CANARY],
            abort_requested_at__isnull=True,
        ).update(abort_requested_at=timezone.now(), abort_reason=note[:1000])
    )


def release_restore(deploy_id: int) -> str:
    """After a release's worker died (the sweeper): send all traffic back to the revision that
    served before and retire the candidate. Returns what was done, for the deploy's record."""
    deploy = Deploy.objects.select_related("service", "revision", "previous_revision").get(
        pk=deploy_id
    )
    candidate, stable = deploy.revision, deploy.previous_revision
    if candidate is None:
        return "no candidate revision was recorded"
    try:
        target = target_for(deploy.service)
        read = traffic_read(target)
        if stable is not None and (not read.known or candidate.name in read.split):
            target.split(stable.name, candidate.name, 0, tag=release_tag(deploy))
        refused = target_retire(target, candidate, status="refused")
    except DeployError as exc:
        return f"could not send traffic back from {candidate.name}: {exc}"
    after = traffic_read(target)
    revisions_traffic_record(service=deploy.service, read=after)
    Revision.objects.filter(pk=candidate.pk, status=Revision.Status.READY).update(
        status=Revision.Status.RETIRED, retired_at=timezone.now()
    )
    current = serving_revision(service=deploy.service, read=after) if after.known else stable
    Service.objects.filter(pk=deploy.service_id).update(current_revision=current or stable)
    Deploy.objects.filter(pk=deploy.pk).update(
        release=Deploy.Release.ROLLED_BACK, traffic_after=after.as_json()
    )
    release_rolled_back(deploy_id=deploy.pk)  # webhooks: rollback.finished
    done = f"the release was rolled back: traffic on {after.text()}"
    return done + (f"; {candidate.name} could not be retired: {refused}" if refused else "")


class _Release:
    def __init__(self, deploy: Deploy, candidate: Revision, target: Any, log: LogBuffer) -> None:
        self.deploy, self.candidate, self.target, self.log = deploy, candidate, target, log
        self.service = deploy.service
        self.stable = _stable(deploy, candidate)
        self.tag = release_tag(deploy)

    # -- the decision ------------------------------------------------------------------------

    def decide(self, verdict: Verdict | None, run: TestRun | None) -> None:
        aborted = self._aborted()
        if aborted:
            self._refuse(Deploy.Release.REFUSED, f"An operator rolled back: {aborted}.")
            return
        if verdict is None:
            why = "no suite ran" if run is None else f"run #{run.pk} has no verdict"
            self._refuse(Deploy.Release.REFUSED, f"The gate has no evidence ({why}).")
            return
        passed = verdict.outcome == Verdict.Outcome.PASS
        if not passed and not verdict.dry_run:
            self._refuse(
                Deploy.Release.REFUSED,
                f"The gate said {verdict.outcome} (verdict #{verdict.pk}): {verdict.summary}",
            )
            return
        dry = "" if passed else f"Dry run: the gate said {verdict.outcome}, going on anyway. "
        if dry:
            self.log.write(f"[stageloop] {dry.strip()}")
        if self.deploy.release_policy == Service.ReleasePolicy.CANARY:
            if self.stable is None:
                canary_not_applicable(run=run, candidate=self.candidate, dry_run=verdict.dry_run)
                dry += "First revision: no stable revision to compare a canary with. "
            elif not self._canary(run, verdict):
                return
        self._promote(dry)

    def _canary(self, run: TestRun | None, verdict: Verdict) -> bool:
        """Run the steps below 100 %; False when one rolled back (the deploy is then ended)."""
        assert self.stable is not None
        steps = [p for p in self.service.canary_steps if p < 100]
        hold = float(self.service.canary_step_seconds)
        policy = gate_policy_for(service_id=self.service.pk, suite_id=run.suite_id) if run else None
        Deploy.objects.filter(pk=self.deploy.pk).update(release=Deploy.Release.CANARY)
        records: list[dict[str, Any]] = []
        for percent in steps:
            step: dict[str, Any] = {"percent": percent, "started_at": _now()}
            records.append(step)
            self._save_steps(records)
            self.log.write(f"[stageloop] canary step: {percent} % to {self.candidate.name}")
            try:
                self.target.split(self.stable.name, self.candidate.name, percent, tag=self.tag)
            except DeployError as exc:
                step.update(outcome="error", finished_at=_now(), note=str(exc)[:500])
                self._save_steps(records)
                self._roll_back(f"Moving {percent} % to {self.candidate.name} failed: {exc}")
                return False
            read = traffic_read(self.target)
            revisions_traffic_record(service=self.service, read=read)
            step["split"] = read.as_json()
            front = getattr(self.target, "proxy_url", lambda: "")()
            self.log.write(
                f"[stageloop] traffic: {read.text()}"
                + (f", through the split proxy at {front}" if front else "")
                + f"; holding {hold:g} s while both revisions are probed"
            )
            self._save_steps(records)
            samples = revisions_probe_compare(
                service=self.service,
                revisions=[self.candidate, self.stable],
                seconds=hold,
                interval=settings.CANARY_PROBE_INTERVAL,
                stop=lambda: bool(self._aborted()),
            )
            aborted = self._aborted()
            if aborted:
                step.update(outcome="aborted", finished_at=_now())
                self._save_steps(records)
                self._roll_back(f"An operator rolled back at the {percent} % step: {aborted}.")
                return False
            step_verdict = canary_verdict(
                run=run,
                candidate=self.candidate,
                stable=self.stable,
                percent=percent,
                samples=samples,
                policy=policy,
                dry_run=verdict.dry_run,
            )
            step.update(outcome=step_verdict.outcome, verdict=step_verdict.pk, finished_at=_now())
            self._save_steps(records)
            self.log.write(f"[stageloop] canary {percent} %: {step_verdict.summary}")
            if step_verdict.outcome != Verdict.Outcome.PASS and not step_verdict.dry_run:
                self._roll_back(
                    f"The canary step at {percent} % said {step_verdict.outcome} "
                    f"(verdict #{step_verdict.pk}): {step_verdict.summary}"
                )
                return False
        return True

    # -- acting ------------------------------------------------------------------------------

    def _promote(self, note: str) -> None:
        name = self.candidate.name
        self.log.write(f"[stageloop] promoting {name}: all traffic to it")
        problem = ""
        try:
            if self.stable is not None:
                self.target.split(self.stable.name, name, 100, tag=self.tag)
            else:
                self.target.set_traffic(name, 100)
        except DeployError as exc:
            problem = str(exc)
        after = traffic_read(self.target)
        revisions_traffic_record(service=self.service, read=after)
        if problem or (after.known and after.split.get(name, 0) != 100):
            current = serving_revision(service=self.service, read=after) if after.known else None
            Service.objects.filter(pk=self.service.pk).update(
                current_revision=current or self.stable or self.candidate
            )
            why = problem or "the target does not report it at 100 %"
            self._end(
                Deploy.Release.FAILED,
                f"{note}Promoting {name} failed: {why}; the target reports traffic {after.text()}.",
                after,
            )
            return
        Service.objects.filter(pk=self.service.pk).update(current_revision=self.candidate)
        retired = self._retire_stable(after)
        after = traffic_read(self.target) if retired else after
        self._end(
            Deploy.Release.PROMOTED,
            f"{note}Promoted {name}: the target reports traffic {after.text()}.{retired}",
            after,
            succeeded=True,
        )

    def _refuse(self, release: str, why: str) -> None:
        """Traffic never moved to the candidate: check that, then retire it."""
        after = traffic_read(self.target)
        if self.stable is not None and (not after.known or self.candidate.name in after.split):
            self._roll_back(why)
            return
        self._retire_candidate_and_end(release, why, after, moved=False)

    def _roll_back(self, why: str) -> None:
        """Send everything back to the stable revision at once, then retire the candidate."""
        assert self.stable is not None
        self.log.write(f"[stageloop] rolling back to {self.stable.name}")
        problem = ""
        try:
            self.target.split(self.stable.name, self.candidate.name, 0, tag=self.tag)
        except DeployError as exc:
            problem = str(exc)
        after = traffic_read(self.target)
        if problem or (after.known and self.candidate.name in after.split):
            revisions_traffic_record(service=self.service, read=after)
            current = serving_revision(service=self.service, read=after) if after.known else None
            Service.objects.filter(pk=self.service.pk).update(
                current_revision=current or self.candidate
            )
            self._end(
                Deploy.Release.FAILED,
                f"{why} Sending traffic back to {self.stable.name} failed: "
                f"{problem or 'the target still sends traffic to the candidate'}; the target "
                f"reports traffic {after.text()}.",
                after,
            )
        else:
            self._retire_candidate_and_end(Deploy.Release.ROLLED_BACK, why, after, moved=True)
        release_rolled_back(deploy_id=self.deploy.pk)  # webhooks: rollback.finished

    def _retire_candidate_and_end(
        self, release: str, why: str, after: TrafficRead, *, moved: bool
    ) -> None:
        # Kept where the target can (Cloud Run at 0 %): an operator may still promote it.
        refused = target_retire(self.target, self.candidate, status="refused")
        if not refused:
            Revision.objects.filter(pk=self.candidate.pk).update(
                status=Revision.Status.RETIRED, retired_at=timezone.now()
            )
        after = traffic_read(self.target)
        revisions_traffic_record(service=self.service, read=after)
        current = serving_revision(service=self.service, read=after) if after.known else None
        Service.objects.filter(pk=self.service.pk).update(current_revision=current or self.stable)
        where = (
            f"traffic is back on {after.text()}"
            if moved
            else f"traffic never moved: the target reports {after.text()}"
        )
        retired = (
            f"{self.candidate.name} could not be retired: {refused}"
            if refused
            else f"{self.candidate.name} was retired"
        )
        self._end(release, f"{why} {where}; {retired}.", after)

    def _retire_stable(self, after: TrafficRead) -> str:
        stable = self.stable
        if stable is None or (after.known and stable.name in after.split):
            return ""
        refused = target_retire(self.target, stable)
        if refused:
            return f" {stable.name} could not be retired: {refused}."
        Revision.objects.filter(pk=stable.pk).exclude(status=Revision.Status.FAILED).update(
            status=Revision.Status.RETIRED, retired_at=timezone.now()
        )
        return f" {stable.name} was retired."

    def _end(
        self, release: str, note: str, after: TrafficRead | None = None, *, succeeded: bool = False
    ) -> None:
        _end(self.deploy, release, note, self.log, after, succeeded=succeeded)

    # -- records -----------------------------------------------------------------------------

    def _aborted(self) -> str:
        row = (
            Deploy.objects.filter(pk=self.deploy.pk)
            .values("abort_requested_at", "abort_reason")
            .first()
        )
        if not row or row["abort_requested_at"] is None:
            return ""
        return row["abort_reason"] or "no reason given"

    def _save_steps(self, records: list[dict[str, Any]]) -> None:
        Deploy.objects.filter(pk=self.deploy.pk).update(release_steps=records)


def _end(
    deploy: Deploy,
    release: str,
    note: str,
    log: LogBuffer,
    after: TrafficRead | None = None,
    *,
    succeeded: bool = False,
) -> None:
    log.write(f"[stageloop] {note}")
    log.flush()
    fields: dict[str, Any] = {"release": release, "release_note": note[:4000]}
    if after is not None:
        fields["traffic_after"] = after.as_json()
    if not succeeded:
        fields["error"] = note
    deploy_lifecycle.move(
        deploy,
        Deploy.Status.SUCCEEDED if succeeded else Deploy.Status.FAILED,
        frm=[Deploy.Status.RUNNING],
        finished_at=timezone.now(),
        **fields,
    )


def _stable(deploy: Deploy, candidate: Revision) -> Revision | None:
    """The revision that served when the deploy began: the biggest share the target reported
    then, else the one the deploy recorded as previous; None for a service's first revision."""
    before = {t["revision"]: t["percent"] for t in deploy.traffic_before or []}
    if before:
        name = max(before, key=lambda n: before[n])
        serving = (
            Revision.objects.filter(service_id=deploy.service_id, name=name)
            .exclude(pk=candidate.pk)
            .first()
        )
        if serving is not None:
            return serving
    previous = deploy.previous_revision
    return previous if previous is not None and previous.pk != candidate.pk else None


def _now() -> str:
    return timezone.now().isoformat()
