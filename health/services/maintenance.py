"""Creating, changing and deleting maintenance windows; bad input is refused whole."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction

from health.maintenance import Spec, spec_errors
from health.models import MaintenanceWindow


def _checked(
    *,
    kind: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    weekdays: Sequence[int],
    local_start: time | None,
    duration_minutes: int | None,
    reason: str,
) -> dict:
    spec = Spec(
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        weekdays=tuple(weekdays),
        local_start=local_start,
        duration_minutes=duration_minutes,
    )
    errors = spec_errors(spec)
    if len(reason) > 200:
        errors.append("The reason can be at most 200 characters.")
    if errors:
        raise ValidationError(errors)
    once = kind == MaintenanceWindow.Kind.ONCE
    return {
        "kind": kind,
        "reason": reason,
        "starts_at": starts_at if once else None,
        "ends_at": ends_at if once else None,
        "weekdays": [] if once else sorted(set(weekdays)),
        "local_start": None if once else local_start,
        "duration_minutes": None if once else duration_minutes,
    }


def maintenance_window_create(
    *,
    service_id: int,
    kind: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    weekdays: Sequence[int] = (),
    local_start: time | None = None,
    duration_minutes: int | None = None,
    reason: str = "",
) -> MaintenanceWindow:
    """A new window for the service; a ValidationError (sentences) when the input is wrong."""
    fields = _checked(
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        weekdays=weekdays,
        local_start=local_start,
        duration_minutes=duration_minutes,
        reason=reason,
    )
    return MaintenanceWindow.objects.create(service_id=service_id, **fields)


def maintenance_window_update(
    *,
    window: MaintenanceWindow,
    kind: str,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    weekdays: Sequence[int] = (),
    local_start: time | None = None,
    duration_minutes: int | None = None,
    reason: str = "",
) -> MaintenanceWindow:
    """Replace what ``window`` says; results already recorded keep their flag."""
    fields = _checked(
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        weekdays=weekdays,
        local_start=local_start,
        duration_minutes=duration_minutes,
        reason=reason,
    )
    with transaction.atomic():
        for name, value in fields.items():
            setattr(window, name, value)
        window.save(update_fields=list(fields))
    return window


def maintenance_window_delete(*, window: MaintenanceWindow) -> None:
    window.delete()
