"""Delivery figures: deploys, frequency, change failure rate, time to restore, lead time — each
read against the bands stored in DeliveryBand."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    RowRange,
    Subquery,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lag, TruncDate, TruncWeek

from reports.figures import DeployBucket, DeploySeries, Figure
from reports.models import DeliveryBand
from reports.numbers import (
    MIN_DAYS_FREQUENCY,
    MIN_DEPLOYS_CFR,
    MIN_DEPLOYS_LEAD_TIME,
    MIN_RESTORES,
    hours_text,
    not_enough,
    percent_text,
    to_hours,
)
from reports.scope import Scope
from reports.selectors.common import evidence_url, median
from reports.selectors.testing import COMPLETED
from runs.models import Deploy, Suite, TestRun

FAILING = (TestRun.Status.FAILED, TestRun.Status.ERROR)
# The deploys chart counts per day up to this many days in the period, per week beyond.
DAILY_UP_TO = 45


def deploys_in_scope(scope: Scope):
    """Succeeded deploys of the period; rollbacks are not changes, so they are left out."""
    deploys = Deploy.objects.filter(
        status=Deploy.Status.SUCCEEDED,
        created_at__gte=scope.start_dt,
        created_at__lt=scope.end_dt,
    ).exclude(trigger__in=[Deploy.Trigger.ROLLBACK, Deploy.Trigger.PROMOTE])
    return scope.filter(deploys)


def gate_overrides(scope: Scope):
    """Promotions an operator made despite the release gate, in the period: each has a reason."""
    return scope.filter(
        Deploy.objects.filter(
            trigger=Deploy.Trigger.PROMOTE,
            reason__startswith="Override",
            created_at__gte=scope.start_dt,
            created_at__lt=scope.end_dt,
        )
    )


def deploys_with_outcome(scope: Scope):
    """Each deploy with the status of the first finished run on its revision and whether a
    rollback moved traffic away from that revision afterwards."""
    first_run_status = Subquery(
        TestRun.objects.filter(revision=OuterRef("revision"), status__in=COMPLETED)
        .order_by("created_at", "pk")
        .values("status")[:1]
    )
    rolled_back = Exists(
        Deploy.objects.filter(
            trigger=Deploy.Trigger.ROLLBACK,
            previous_revision=OuterRef("revision"),
            created_at__gte=OuterRef("created_at"),
        )
    )
    return deploys_in_scope(scope).annotate(
        first_run_status=first_run_status, rolled_back=rolled_back
    )


def _band(bands: list[DeliveryBand], metric: str, value: float | None) -> tuple[str, str]:
    if value is None:
        return "", ""
    for band in bands:
        if band.metric == metric and band.contains(value):
            return band.level, band.source
    return "", ""


def delivery_figures(scope: Scope) -> list[Figure]:
    bands = list(DeliveryBand.objects.order_by("metric", "rank"))
    url = evidence_url(scope, "deploys")
    counts = deploys_with_outcome(scope).aggregate(
        deploys=Count("pk"),
        failed=Count("pk", filter=Q(first_run_status__in=FAILING) | Q(rolled_back=True)),
    )
    n = counts["deploys"]
    figures = [
        Figure(
            key="delivery.deploys",
            label="Deploys",
            text=str(n),
            value=n,
            unit="deploys",
            n=n,
            enough=True,
            evidence_url=url,
            definition="succeeded deploys started in the period, rollbacks and promotions excluded",
        )
    ]
    overrides = list(gate_overrides(scope).order_by("-created_at").values_list("reason", flat=True))
    figures.append(
        Figure(
            key="delivery.gate_overrides",
            label="Gate overrides",
            text=str(len(overrides))
            + (": " + "; ".join(r[:120] for r in overrides[:3]) if overrides else ""),
            value=len(overrides),
            unit="overrides",
            n=len(overrides),
            enough=True,
            evidence_url=evidence_url(scope, "overrides"),
            definition="promotions an operator made despite a failing or inconclusive gate "
            "verdict, each with its recorded reason",
        )
    )

    if scope.days >= MIN_DAYS_FREQUENCY:
        per_day = n / scope.days
        text = f"{per_day * 7:.1f} per week" if per_day < 1 else f"{per_day:.1f} per day"
        figures.append(
            _figure(
                "delivery.deploy_frequency",
                "Deploy frequency",
                text,
                per_day,
                "per day",
                n,
                url,
                "deploys / days in the period",
                _band(bands, "deploy_frequency", per_day),
            )
        )
    else:
        figures.append(
            _short(
                "delivery.deploy_frequency",
                "Deploy frequency",
                not_enough(scope.days, "days", MIN_DAYS_FREQUENCY),
                n,
                url,
                "deploys / days in the period",
            )
        )

    cfr_definition = (
        "deploys whose first finished run on the deployed revision failed, or that were rolled "
        "back, / deploys"
    )
    if n >= MIN_DEPLOYS_CFR:
        rate = counts["failed"] / n
        figures.append(
            _figure(
                "delivery.change_failure_rate",
                "Change failure rate",
                f"{percent_text(counts['failed'], n)} ({counts['failed']} of {n})",
                rate,
                "%",
                n,
                evidence_url(scope, "deploys", failed="1"),
                cfr_definition,
                _band(bands, "change_failure_rate", rate),
            )
        )
    else:
        figures.append(
            _short(
                "delivery.change_failure_rate",
                "Change failure rate",
                not_enough(n, "deploys", MIN_DEPLOYS_CFR),
                n,
                url,
                cfr_definition,
            )
        )

    figures.append(_time_to_restore(scope, bands))
    figures.append(_lead_time(scope, bands, url))
    return figures


def _figure(key, label, text, value, unit, n, url, definition, band) -> Figure:
    return Figure(
        key=key,
        label=label,
        text=text,
        value=value,
        unit=unit,
        n=n,
        enough=True,
        evidence_url=url,
        definition=definition,
        band=band[0],
        band_source=band[1],
    )


def _short(key, label, text, n, url, definition) -> Figure:
    return Figure(
        key=key,
        label=label,
        text=text,
        value=None,
        unit="",
        n=n,
        enough=False,
        evidence_url=url,
        definition=definition,
    )


def restores(scope: Scope, *, restored_only: bool = False):
    """Failure episodes that began in the period: the first failing run of a suite after a green
    one (or its first run), with the time of the next green run of that suite (None: still red).

    Only the period's runs are read: window functions give each run its predecessor and the next
    green run after it. A suite's last run before the period is one index probe per suite, in a
    subquery run once (not once per run of the period: 15,000 probes a month at 100 M results)."""
    order = [F("created_at"), F("pk")]
    previous = Window(Lag("status"), partition_by=[F("suite_id")], order_by=order)
    last_before = Subquery(
        TestRun.objects.filter(
            suite=OuterRef("pk"), status__in=COMPLETED, created_at__lt=scope.start_dt
        )
        .order_by("-created_at", "-pk")
        .values("status")[:1]
    )
    # Suites whose last run before the period failed: their first failing run in the period
    # continues that episode rather than starting one.
    red_before = scope.filter(Suite.objects.all(), "service").annotate(last=last_before)
    red_before = red_before.filter(last__in=FAILING).values("pk")
    # The earliest green run after this one: a running minimum, newest first (linear, where a
    # frame of the following rows would be quadratic).
    next_green = Window(
        Min(Case(When(status=TestRun.Status.PASSED, then=F("created_at")))),
        partition_by=[F("suite_id")],
        order_by=[F("created_at").desc(), F("pk").desc()],
        frame=RowRange(start=None, end=-1),
    )
    runs = scope.filter(
        TestRun.objects.filter(
            status__in=COMPLETED, created_at__gte=scope.start_dt, created_at__lt=scope.end_dt
        )
    )
    episode = Q(status__in=FAILING)
    if restored_only:
        episode &= Q(restored_at__isnull=False)
    first_in_period = Q(previous_status__isnull=True, after_red=False)
    return (
        runs.annotate(
            previous_status=previous,
            after_red=ExpressionWrapper(Q(suite_id__in=red_before), BooleanField()),
            restored_at=next_green,
        )
        .annotate(restore=ExpressionWrapper(F("restored_at") - F("created_at"), DurationField()))
        .filter((episode & first_in_period) | (episode & Q(previous_status=TestRun.Status.PASSED)))
    )


def _time_to_restore(scope: Scope, bands) -> Figure:
    definition = "median time from the first failing run of a suite to its next green run"
    url = evidence_url(scope, "restores")
    value, n = median(restores(scope, restored_only=True), "restore")
    hours = to_hours(value)  # None only when there is no restore at all
    if n < MIN_RESTORES or hours is None:
        return _short(
            "delivery.time_to_restore",
            "Time to restore",
            not_enough(n, "restores", MIN_RESTORES),
            n,
            url,
            definition,
        )
    return _figure(
        "delivery.time_to_restore",
        "Time to restore",
        hours_text(hours),
        hours,
        "hours",
        n,
        url,
        definition,
        _band(bands, "time_to_restore", hours),
    )


def lead_times(scope: Scope):
    """Deploys with a known commit time and the time from that commit to the deploy."""
    return (
        deploys_in_scope(scope)
        .annotate(
            commit_time=Coalesce("revision__commit_time", "build__commit_time"),
            deployed_at=Coalesce("finished_at", "created_at"),
        )
        .filter(commit_time__isnull=False)
        .annotate(lead=ExpressionWrapper(F("deployed_at") - F("commit_time"), DurationField()))
    )


def _lead_time(scope: Scope, bands, url: str) -> Figure:
    definition = "median time from the commit's time to the end of its deploy"
    value, n = median(lead_times(scope), "lead")
    hours = to_hours(value)  # None only when no deploy has a commit time
    if n < MIN_DEPLOYS_LEAD_TIME or hours is None:
        return _short(
            "delivery.lead_time",
            "Lead time for changes",
            not_enough(n, "deploys with a commit time", MIN_DEPLOYS_LEAD_TIME),
            n,
            url,
            definition,
        )
    return _figure(
        "delivery.lead_time",
        "Lead time for changes",
        hours_text(hours),
        hours,
        "hours",
        n,
        url,
        definition,
        _band(bands, "lead_time", hours),
    )


def deploys_over_time(scope: Scope) -> DeploySeries:
    """Deploys of the period that succeeded and that failed per day (per week past
    DAILY_UP_TO days), every bucket of the period present, empty ones as zeros. One query."""
    daily = scope.days <= DAILY_UP_TO
    trunc = TruncDate("created_at") if daily else TruncWeek("created_at")
    deploys = scope.filter(
        Deploy.objects.filter(
            status__in=(Deploy.Status.SUCCEEDED, Deploy.Status.FAILED),
            created_at__gte=scope.start_dt,
            created_at__lt=scope.end_dt,
        ).exclude(trigger__in=[Deploy.Trigger.ROLLBACK, Deploy.Trigger.PROMOTE])
    )
    rows = (
        deploys.annotate(bucket=trunc)
        .values("bucket")
        .annotate(
            ok=Count("pk", filter=Q(status=Deploy.Status.SUCCEEDED)),
            bad=Count("pk", filter=Q(status=Deploy.Status.FAILED)),
        )
        .order_by("bucket")
    )
    counts = {
        (r["bucket"].date() if hasattr(r["bucket"], "date") else r["bucket"]): (r["ok"], r["bad"])
        for r in rows
    }
    step = timedelta(days=1 if daily else 7)
    first = scope.start if daily else scope.start - timedelta(days=scope.start.weekday())
    buckets, day = [], first
    while day <= scope.end:
        ok, bad = counts.get(day, (0, 0))
        buckets.append(DeployBucket(start=day, succeeded=ok, failed=bad))
        day += step
    return DeploySeries(bucket="day" if daily else "week", buckets=buckets)
