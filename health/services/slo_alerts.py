"""Multi-window, multi-burn-rate alerts of SLOs (Google SRE workbook, ch. 5, "alerting on SLOs").

Two pairs of windows, each with a burn-rate threshold (how many times faster than the SLO's
window allows the budget is spent):

- fast burn: 14.4 over 1 h and 5 min → critical (2 % of a 30-day budget in an hour);
- slow burn: 6 over 6 h and 30 min → warning (5 % of a 30-day budget in 6 hours).

An alert opens when both windows of its pair burn at or above the threshold, and closes when
the short window drops below it (or has no events left): the short window is what makes the
alert reset soon after the errors stop, as the workbook intends. Without events in a window
nothing opens. A warning does not open while the same SLO's critical alert is open (or opening
now): the critical one already says more; it may open later if the slow burn outlasts it.

Windows end at ``now`` and hold the minute rollups (or scheduled runs) from ``now - window`` on:
evaluated every minute, a total outage opens the critical alert within about a minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from health.models import Slo, SloAlert
from health.selectors.slos import slo_counts
from integrations.services.events import slo_alert_closed, slo_alert_opened

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BurnPair:
    severity: str
    threshold: float
    long: timedelta
    short: timedelta


PAIRS = (
    BurnPair(SloAlert.Severity.CRITICAL, 14.4, timedelta(hours=1), timedelta(minutes=5)),
    BurnPair(SloAlert.Severity.WARNING, 6.0, timedelta(hours=6), timedelta(minutes=30)),
)

# Float noise must not decide a comparison that is exact on paper (0.0144 / 0.001 = 14.4).
_EPSILON = 1e-9


def _at_least(burn: float | None, threshold: float) -> bool:
    return burn is not None and burn >= threshold * (1 - _EPSILON)


@dataclass(frozen=True)
class Evaluation:
    opened: list[SloAlert]
    closed: list[SloAlert]


def slo_alerts_evaluate(*, now: datetime) -> Evaluation:
    """Open and close the burn-rate alerts of every SLO as of ``now``; emit ``slo_alert.opened``
    and ``slo_alert.closed`` for each. A fixed number of queries for the counts (one per kind
    of SLO), plus one write and one event per alert that changes."""
    slos = list(Slo.objects.select_related("service"))
    if not slos:
        return Evaluation(opened=[], closed=[])
    windows = sorted({w for pair in PAIRS for w in (pair.long, pair.short)})
    counts = slo_counts(slos, [(now - w, now) for w in windows], fine=True)
    open_alerts = {
        (alert.slo_id, alert.severity): alert
        for alert in SloAlert.objects.filter(closed_at__isnull=True)
    }
    opened, closed = [], []
    for slo in slos:
        by_window = dict(zip(windows, counts[slo.pk], strict=True))
        firing = {}
        for pair in PAIRS:
            long_burn = by_window[pair.long].burn_rate(slo.budget_share)
            short_burn = by_window[pair.short].burn_rate(slo.budget_share)
            firing[pair.severity] = (
                _at_least(long_burn, pair.threshold) and _at_least(short_burn, pair.threshold),
                long_burn,
                short_burn,
            )
        for pair in PAIRS:
            is_firing, long_burn, short_burn = firing[pair.severity]
            alert = open_alerts.get((slo.pk, pair.severity))
            if alert is not None and not _at_least(short_burn, pair.threshold):
                closed.append(_close(alert, now=now))
                del open_alerts[(slo.pk, pair.severity)]
            elif alert is None and is_firing:
                critical = (slo.pk, SloAlert.Severity.CRITICAL)
                if pair.severity == SloAlert.Severity.WARNING and (
                    critical in open_alerts or firing[SloAlert.Severity.CRITICAL][0]
                ):
                    continue
                new = _open(slo, pair, long_burn or 0.0, short_burn or 0.0, now=now)
                if new is not None:
                    open_alerts[(slo.pk, pair.severity)] = new
                    opened.append(new)
    return Evaluation(opened=opened, closed=closed)


def _open(
    slo: Slo, pair: BurnPair, long_burn: float, short_burn: float, *, now: datetime
) -> SloAlert | None:
    try:
        with transaction.atomic():
            alert = SloAlert.objects.create(
                slo=slo,
                service=slo.service,
                severity=pair.severity,
                threshold=pair.threshold,
                long_burn=long_burn,
                short_burn=short_burn,
                opened_at=now,
            )
            slo_alert_opened(alert=alert)  # notifications: slo_alert.opened
    except IntegrityError:  # a concurrent evaluation opened it first
        return None
    logger.warning("SLO alert %s (%s) opened for SLO %s", alert.pk, alert.severity, slo.pk)
    return alert


def _close(alert: SloAlert, *, now: datetime) -> SloAlert:
    with transaction.atomic():
        changed = SloAlert.objects.filter(pk=alert.pk, closed_at__isnull=True).update(closed_at=now)
        alert.closed_at = now
        if changed:  # a concurrent evaluation closed it first: one event only
            slo_alert_closed(alert=alert)
    return alert
