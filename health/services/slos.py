"""Writes of SLOs: create, change and delete, each checked the same way as the form checks."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from health.models import Slo
from runs.models import Service


class SloInvalid(ValueError):
    """A sentence saying what was wrong; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check(*, name: str, kind: str, objective_percent: float, latency_threshold_ms: int | None,
           window_days: int) -> None:  # fmt: skip
    if not name.strip():
        raise SloInvalid("Give the SLO a name.", field="name")
    if kind not in Slo.Kind.values:
        raise SloInvalid(f"Choose a kind: {', '.join(Slo.Kind.values)}.", field="kind")
    if not 0 < objective_percent < 100:
        raise SloInvalid(
            "The objective is a percentage above 0 and below 100 (100 % leaves no error budget), "
            "e.g. 99.9.",
            field="objective_percent",
        )
    if kind == Slo.Kind.LATENCY and (latency_threshold_ms is None or latency_threshold_ms < 1):
        raise SloInvalid(
            "A latency objective needs a threshold of at least 1 ms.", field="latency_threshold_ms"
        )
    if window_days not in Slo.Window.values:
        raise SloInvalid(
            f"Choose a window of {', '.join(str(d) for d in Slo.Window.values)} days.",
            field="window_days",
        )


def slo_create(
    *,
    service: Service,
    name: str,
    kind: str,
    objective_percent: float,
    latency_threshold_ms: int | None = None,
    window_days: int = Slo.Window.FOUR_WEEKS,
) -> Slo:
    """Create an SLO of ``service``; raises ``SloInvalid`` (nothing written) for bad input."""
    _check(name=name, kind=kind, objective_percent=objective_percent,
           latency_threshold_ms=latency_threshold_ms, window_days=window_days)  # fmt: skip
    try:
        with transaction.atomic():
            return Slo.objects.create(
                service=service,
                name=name.strip()[:100],
                kind=kind,
                objective_percent=objective_percent,
                latency_threshold_ms=latency_threshold_ms if kind == Slo.Kind.LATENCY else None,
                window_days=window_days,
            )
    except IntegrityError as exc:
        raise SloInvalid(
            f"The service already has an SLO named {name.strip()!r}.", field="name"
        ) from exc


def slo_update(
    *,
    slo: Slo,
    name: str,
    kind: str,
    objective_percent: float,
    latency_threshold_ms: int | None = None,
    window_days: int = Slo.Window.FOUR_WEEKS,
) -> Slo:
    """Change an SLO; its alerts stay (the next evaluation judges them by the new objective)."""
    _check(name=name, kind=kind, objective_percent=objective_percent,
           latency_threshold_ms=latency_threshold_ms, window_days=window_days)  # fmt: skip
    slo.name = name.strip()[:100]
    slo.kind = kind
    slo.objective_percent = objective_percent
    slo.latency_threshold_ms = latency_threshold_ms if kind == Slo.Kind.LATENCY else None
    slo.window_days = window_days
    try:
        with transaction.atomic():
            slo.save()
    except IntegrityError as exc:
        raise SloInvalid(
            f"The service already has an SLO named {name.strip()!r}.", field="name"
        ) from exc
    return slo


def slo_delete(*, slo: Slo) -> None:
    """Delete an SLO and its alerts."""
    slo.delete()
