"""The ``data`` of each event, built from the rows the emitting service already holds.

Each builder returns ``(service, data)``; the envelope (id, type, created_at, service) is added
by ``integrations.services.events``. What each body holds is documented on the webhooks docs
page (templates/integrations/docs.html) from EXAMPLES below: keep the two together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse


def link(name: str, *args: Any) -> str:
    """An absolute link to a page when STAGELOOP_PUBLIC_URL is set, else its path."""
    return settings.PUBLIC_URL + reverse(name, args=args)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _revision(revision) -> dict[str, Any] | None:
    if revision is None:
        return None
    return {
        "id": revision.pk,
        "name": revision.name,
        "commit_sha": revision.commit_sha,
        "url": link("revision-detail", revision.pk),
    }


def run_data(run) -> dict[str, Any]:
    return {
        "run": {
            "id": run.pk,
            "url": link("run-detail", run.pk),
            "status": run.status,
            "suite": {"id": run.suite_id, "name": run.suite.name},
            "revision": _revision(run.revision),
            "total": run.total,
            "passed": run.passed,
            "failed": run.failed,
            "errors": run.errors,
            "skipped": run.skipped,
            "error": run.error,
            "finished_at": _time(run.finished_at),
        }
    }


def verdict_data(verdict) -> dict[str, Any]:
    return {
        "verdict": {
            "id": verdict.pk,
            "stage": verdict.stage,
            "outcome": verdict.outcome,
            "summary": verdict.summary,
            "dry_run": verdict.dry_run,
            "failed_rules": [
                r.get("name", "") for r in verdict.rules if r.get("outcome") == "fail"
            ],
            "run": {"id": verdict.run_id, "url": link("run-detail", verdict.run_id)}
            if verdict.run_id
            else None,
        },
        "revision": _revision(verdict.revision),
    }


def rollback_data(deploy) -> dict[str, Any]:
    """A rollback deploy (its revision is the one rolled back to), or a gated or canary release
    that sent traffic back (its revision is the candidate, rolled back from)."""
    from_, to = deploy.previous_revision, deploy.revision
    if deploy.trigger != "rollback":
        from_, to = to, from_
    return {
        "deploy": {
            "id": deploy.pk,
            "url": link("deploy-detail", deploy.pk),
            "status": deploy.status,
            "trigger": deploy.trigger,
            "release": deploy.release,
            "error": deploy.error,
            "finished_at": _time(deploy.finished_at),
        },
        "to_revision": _revision(to),
        "from_revision": _revision(from_),
    }


def incident_data(incident) -> dict[str, Any]:
    service = incident.service
    return {
        "incident": {
            "id": incident.pk,
            "url": link("service-health", service.name),
            "probe": {"id": incident.probe_id, "name": incident.probe.name},
            "revision": _revision(incident.revision),
            "opened_at": _time(incident.opened_at),
            "closed_at": _time(incident.closed_at),
            "first_error": incident.first_error[:1000],
        }
    }


_REVISION = {
    "id": 42,
    "name": "payments-api-00042-x7k",
    "commit_sha": "4e1f0c2a9b7d5e3f1a0c8b6d4e2f0a1b3c5d7e9f",
    "url": "https://stageloop.example.com/revisions/42/",
}

# kind -> an example ``data``, for the docs page (the envelope is shown there once).
EXAMPLES: dict[str, dict[str, Any]] = {
    "run.failed": {
        "run": {
            "id": 1234,
            "url": "https://stageloop.example.com/runs/1234/",
            "status": "failed",
            "suite": {"id": 7, "name": "e2e"},
            "revision": _REVISION,
            "total": 120,
            "passed": 117,
            "failed": 2,
            "errors": 1,
            "skipped": 0,
            "error": "",
            "finished_at": "2026-12-01T02:10:00+00:00",
        }
    },
    "gate.failed": {
        "verdict": {
            "id": 88,
            "stage": "before_traffic",
            "outcome": "fail",
            "summary": "Fail on run #1234: Blocking failures.",
            "dry_run": False,
            "failed_rules": ["Blocking failures"],
            "run": {"id": 1234, "url": "https://stageloop.example.com/runs/1234/"},
        },
        "revision": _REVISION,
    },
    "rollback.finished": {
        "deploy": {
            "id": 310,
            "url": "https://stageloop.example.com/deploys/310/",
            "status": "succeeded",
            "trigger": "rollback",
            "release": "",
            "error": "",
            "finished_at": "2026-12-01T02:12:00+00:00",
        },
        "to_revision": _REVISION,
        "from_revision": {**_REVISION, "id": 43, "name": "payments-api-00043-p2q"},
    },
    "incident.opened": {
        "incident": {
            "id": 19,
            "url": "https://stageloop.example.com/services/payments-api/health/",
            "probe": {"id": 3, "name": "health"},
            "revision": _REVISION,
            "opened_at": "2026-12-01T02:00:00+00:00",
            "closed_at": None,
            "first_error": "expected status 200, got 503",
        }
    },
    "incident.closed": {
        "incident": {
            "id": 19,
            "url": "https://stageloop.example.com/services/payments-api/health/",
            "probe": {"id": 3, "name": "health"},
            "revision": _REVISION,
            "opened_at": "2026-12-01T02:00:00+00:00",
            "closed_at": "2026-12-01T02:06:00+00:00",
            "first_error": "expected status 200, got 503",
        }
    },
    "webhook.test": {"message": "A test event from Stageloop: your endpoint receives webhooks."},
}
