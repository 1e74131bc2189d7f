"""The one line every notification says, and the link to its evidence, built from an event's
data (the same data webhooks receive, which never holds a secret).

Pure Python, no Django.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations import events

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    title: str
    line: str  # what happened, in one line
    link: str  # the evidence

    @property
    def text(self) -> str:
        return f"{self.line} {self.link}".strip()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _run_failed(s: str, d: dict) -> tuple[str, str]:
    run = d["run"]
    counts = f"{run['failed']} failed, {run['errors']} errors of {run['total']}"
    rev = f" on {run['revision']['name']}" if run.get("revision") else ""
    return f"{s}: run #{run['id']} of {run['suite']['name']}{rev} {run['status']} ({counts})", run[
        "url"
    ]


def _gate_failed(s: str, d: dict) -> tuple[str, str]:
    v, rev = d["verdict"], d.get("revision") or {}
    rules = ", ".join(v["failed_rules"]) or "a rule"
    url = (v.get("run") or {}).get("url") or rev.get("url", "")
    return f"{s}: the release gate failed for {rev.get('name', 'a revision')} ({rules})", url


def _rollback(s: str, d: dict) -> tuple[str, str]:
    dep, to = d["deploy"], d.get("to_revision") or {}
    return f"{s}: rollback to {to.get('name', 'the previous revision')} {dep['status']}", dep["url"]


def _incident(verb: str) -> Callable[[str, dict], tuple[str, str]]:
    def build(s: str, d: dict) -> tuple[str, str]:
        i = d["incident"]
        error = (
            f": {_one_line(i['first_error'], 100)}" if verb == "opened" and i["first_error"] else ""
        )
        return f"{s}: incident {verb} on probe {i['probe']['name']}{error}", i["url"]

    return build


def _slo_alert(verb: str) -> Callable[[str, dict], tuple[str, str]]:
    def build(s: str, d: dict) -> tuple[str, str]:
        a = d["slo_alert"]
        slo = a["slo"]
        what = "fast" if a["severity"] == "critical" else "slow"
        burn = f" (burn rate {a['long_burn']:g}x ≥ {a['threshold']:g}x)" if verb == "opened" else ""
        return (
            f"{s}: {what}-burn alert {verb} on SLO {_one_line(slo['name'], 80)} "
            f"({slo['objective_percent']:g} % over {slo['window_days']} days){burn}",
            a["url"],
        )

    return build


def _signatures(s: str, d: dict) -> tuple[str, str]:
    run, first = d["run"], (d["signatures"] or [{}])[0]
    example = f": {_one_line(first.get('example', ''), 100)}" if first.get("example") else ""
    count = _plural(d["count"], "new failure signature")
    return f"{s}: {count} in {run['suite']} (run #{run['id']}){example}", run["url"]


def _flaky(s: str, d: dict) -> tuple[str, str]:
    run, tests = d["run"], d["tests"]
    names = ", ".join(t["name"] for t in tests[:3]) + ("…" if d["count"] > 3 else "")
    count = _plural(d["count"], "test")
    url = tests[0]["url"] if d["count"] == 1 else run["url"]
    return f"{s}: {count} became flaky in {run['suite']} (run #{run['id']}): {names}", url


def _state(verb: str) -> Callable[[str, dict], tuple[str, str]]:
    def build(s: str, d: dict) -> tuple[str, str]:
        t = d["test"]
        return f"{s}: {t['name']} {verb} ({_one_line(d['reason'], 100)})", t["url"]

    return build


def _loop(s: str, d: dict) -> tuple[str, str]:
    loop = d["loop"]
    if loop["status"] == "succeeded":
        what = f"reached its goal after {_plural(loop['iterations'], 'iteration')}"
    else:
        what = f"gave up after {_plural(loop['iterations'], 'iteration')} without reaching its goal"
    return f"{s}: loop #{loop['id']} on {loop['suite']} {what}", loop["url"]


def _overdue(s: str, d: dict) -> tuple[str, str]:
    item, analysis = d["action_item"], d["analysis"]
    owner = f" (owner {item['owner']})" if item.get("owner") else ""
    return (
        f"{s}: action item overdue since {item['due_date']}{owner}: {_one_line(item['what'], 100)}",
        analysis["url"],
    )


def _verified(s: str, d: dict) -> tuple[str, str]:
    a = d["analysis"]
    run = d["analysis"].get("verified_by_run") or {}
    by = f" by run #{run['id']}" if run.get("id") else ""
    return f"{s}: analysis verified{by}: {_one_line(a['title'], 100)}", a["url"]


_BUILDERS: dict[str, Callable[[str, dict], tuple[str, str]]] = {
    events.RUN_FAILED: _run_failed,
    events.GATE_FAILED: _gate_failed,
    events.ROLLBACK_FINISHED: _rollback,
    events.INCIDENT_OPENED: _incident("opened"),
    events.INCIDENT_CLOSED: _incident("closed"),
    events.SLO_ALERT_OPENED: _slo_alert("opened"),
    events.SLO_ALERT_CLOSED: _slo_alert("closed"),
    events.SIGNATURE_NEW: _signatures,
    events.TEST_FLAKY: _flaky,
    events.TEST_QUARANTINED: _state("quarantined"),
    events.TEST_RELEASED: _state("released"),
    events.LOOP_FINISHED: _loop,
    events.LOOP_GAVE_UP: _loop,
    events.ACTION_ITEM_OVERDUE: _overdue,
    events.ANALYSIS_VERIFIED: _verified,
}


def message_for(*, kind: str, service: str | None, data: dict[str, Any]) -> Message:
    """The title, the one line and the link of an event of ``kind`` about ``service``."""
    where = service or "Stageloop"
    builder = _BUILDERS.get(kind)
    line, url = f"{where}: {kind}", ""
    if builder is not None:
        try:
            line, url = builder(where, data)
        except (KeyError, TypeError, IndexError, AttributeError):
            # A message must never fail the write that emitted the event: say less instead.
            logger.exception("no message for a %s event; sending its kind only", kind)
    title = f"[Stageloop] {kind} — {where}"
    return Message(title=title[:200], line=_one_line(line, 300), link=url or "")
