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


def slo_alert_data(alert) -> dict[str, Any]:
    slo, service = alert.slo, alert.service
    return {
        "slo_alert": {
            "id": alert.pk,
            "url": link("service-slos", service.name),
            "severity": alert.severity,
            "threshold": alert.threshold,
            "long_burn": round(alert.long_burn, 2),
            "short_burn": round(alert.short_burn, 2),
            "opened_at": _time(alert.opened_at),
            "closed_at": _time(alert.closed_at),
            "slo": {
                "id": slo.pk,
                "name": slo.name,
                "kind": slo.kind,
                "objective_percent": slo.objective_percent,
                "window_days": slo.window_days,
            },
        }
    }


def _test(case) -> dict[str, Any]:
    return {"id": case.pk, "name": case.name, "classname": case.classname, "file": case.file,
            "url": link("test-detail", case.pk)}  # fmt: skip


def signatures_data(run, signatures) -> dict[str, Any]:
    """``signatures``: the new FailureSignature rows (at most the first 20 listed)."""
    return {
        "run": {"id": run.pk, "url": link("run-detail", run.pk), "suite": run.suite.name},
        "count": len(signatures),
        "signatures": [
            {"id": s.pk, "kind": s.kind, "example": s.example[:300]} for s in signatures[:20]
        ],
    }


def flaky_data(run, cases) -> dict[str, Any]:
    return {
        "run": {"id": run.pk, "url": link("run-detail", run.pk), "suite": run.suite.name},
        "count": len(cases),
        "tests": [_test(case) for case in cases[:20]],
    }


def test_state_data(case, *, state: str, reason: str, automatic: bool) -> dict[str, Any]:
    return {
        "test": _test(case),
        "state": state,
        "reason": reason[:1000],
        "automatic": automatic,
    }


def loop_data(loop) -> dict[str, Any]:
    return {
        "loop": {
            "id": loop.pk,
            "url": link("loop-detail", loop.pk),
            "status": loop.status,
            "goal": loop.goal,
            "max_iterations": loop.max_iterations,
            "iterations": loop.iterations.count(),
            "suite": loop.suite.name,
        }
    }


def action_item_data(item) -> dict[str, Any]:
    return {
        "action_item": {
            "id": item.pk,
            "what": item.what[:500],
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "owner": item.owner.get_username() if item.owner_id else None,
            "status": item.status,
        },
        "analysis": {
            "id": item.analysis_id,
            "title": item.analysis.title,
            "url": link("analysis-detail", item.analysis_id),
        },
    }


def analysis_data(analysis) -> dict[str, Any]:
    return {
        "analysis": {
            "id": analysis.pk,
            "title": analysis.title,
            "url": link("analysis-detail", analysis.pk),
            "verified_at": _time(analysis.verified_at),
            "verified_by_run": {
                "id": analysis.verified_by_run_id,
                "url": link("run-detail", analysis.verified_by_run_id),
            }
            if analysis.verified_by_run_id
            else None,
        }
    }


_REVISION = {
    "id": 42,
    "name": "payments-api-00042-x7k",
    "commit_sha": "4e1f0c2a9b7d5e3f1a0c8b6d4e2f0a1b3c5d7e9f",
    "url": "https://stageloop.example.com/revisions/42/",
}

_TEST = {
    "id": 501,
    "name": "test_checkout_pays",
    "classname": "tests.test_checkout",
    "file": "tests/test_checkout.py",
    "url": "https://stageloop.example.com/tests/501/",
}
_LOOP = {
    "id": 31,
    "url": "https://stageloop.example.com/loops/31/",
    "goal": "all_pass",
    "max_iterations": 5,
    "suite": "e2e",
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
    "slo_alert.opened": {
        "slo_alert": {
            "id": 7,
            "url": "https://stageloop.example.com/services/payments-api/slos/",
            "severity": "critical",
            "threshold": 14.4,
            "long_burn": 16.67,
            "short_burn": 200.0,
            "opened_at": "2026-12-01T02:01:00+00:00",
            "closed_at": None,
            "slo": {
                "id": 2,
                "name": "availability",
                "kind": "availability",
                "objective_percent": 99.9,
                "window_days": 28,
            },
        }
    },
    "slo_alert.closed": {
        "slo_alert": {
            "id": 7,
            "url": "https://stageloop.example.com/services/payments-api/slos/",
            "severity": "critical",
            "threshold": 14.4,
            "long_burn": 16.67,
            "short_burn": 200.0,
            "opened_at": "2026-12-01T02:01:00+00:00",
            "closed_at": "2026-12-01T02:35:00+00:00",
            "slo": {
                "id": 2,
                "name": "availability",
                "kind": "availability",
                "objective_percent": 99.9,
                "window_days": 28,
            },
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
    "signature.new": {
        "run": {"id": 1234, "url": "https://stageloop.example.com/runs/1234/", "suite": "e2e"},
        "count": 1,
        "signatures": [
            {"id": 77, "kind": "failed", "example": "AssertionError: expected 200, got 502"}
        ],
    },
    "test.flaky": {
        "run": {"id": 1234, "url": "https://stageloop.example.com/runs/1234/", "suite": "e2e"},
        "count": 1,
        "tests": [_TEST],
    },
    "test.quarantined": {
        "test": _TEST,
        "state": "quarantined",
        "reason": "Flaky: flake score 0.35 (≥ 0.20): 7 flips and 0 passes on retry in 20 results.",
        "automatic": True,
    },
    "test.released": {
        "test": _TEST,
        "state": "active",
        "reason": "Released: 10 consecutive clean runs.",
        "automatic": True,
    },
    "loop.finished": {"loop": {**_LOOP, "status": "succeeded", "iterations": 2}},
    "loop.gave_up": {"loop": {**_LOOP, "status": "exhausted", "iterations": 5}},
    "action_item.overdue": {
        "action_item": {
            "id": 12,
            "what": "Add a timeout to the payment provider client",
            "due_date": "2026-11-28",
            "owner": "ana",
            "status": "open",
        },
        "analysis": {
            "id": 9,
            "title": "Checkout fails when the provider is slow",
            "url": "https://stageloop.example.com/analyses/9/",
        },
    },
    "analysis.verified": {
        "analysis": {
            "id": 9,
            "title": "Checkout fails when the provider is slow",
            "url": "https://stageloop.example.com/analyses/9/",
            "verified_at": "2026-12-01T03:00:00+00:00",
            "verified_by_run": {"id": 1240, "url": "https://stageloop.example.com/runs/1240/"},
        }
    },
    "webhook.test": {"message": "A test event from Stageloop: your endpoint receives webhooks."},
}
