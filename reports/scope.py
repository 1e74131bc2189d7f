"""The period and services a summary covers, read from the query string."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.utils import timezone

from runs.models import Service
from runs.params import BadParam, date_param
from runs.time_range import TimeRange

MAX_DAYS = 3 * 366
DEFAULT_DAYS = 30


class ScopeError(BadParam):
    """A period or service list that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Scope:
    start: date  # first day, included
    end: date  # last day, included
    services: tuple[Service, ...]  # empty: every service

    @property
    def start_dt(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_dt(self) -> datetime:
        """The instant after the last day (exclusive bound)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def mid_dt(self) -> datetime:
        return self.start_dt + (self.end_dt - self.start_dt) / 2

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def service_ids(self) -> list[int] | None:
        return [s.pk for s in self.services] or None

    @property
    def service_names(self) -> str:
        return ", ".join(s.name for s in self.services) or "all services"

    def query(self, **extra) -> str:
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.services:
            params["services"] = ",".join(s.name for s in self.services)
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return urlencode(params)

    def filter(self, queryset, field: str = "service"):
        """Restrict a queryset to the scope's services (``field`` is the path to the service)."""
        ids = self.service_ids
        return queryset.filter(**{f"{field}__in": ids}) if ids else queryset


def scope_from_query(params, *, span: TimeRange | None = None) -> Scope:
    """Read ``start``, ``end`` (YYYY-MM-DD, both included) and ``services`` (names, comma-
    separated). Without them the period is the app's time range `span` in whole days (the days
    it touches, as many as it spans: "last 7 d" is today and the 6 days before); without a
    span, the last 30 days. Every service by default."""
    default_end, default_days = timezone.localdate(), DEFAULT_DAYS
    if span is not None:
        default_end = timezone.localtime(span.end - timedelta(microseconds=1)).date()
        default_days = max(1, -(-span.span // timedelta(days=1)))
    end = date_param(params, "end") or default_end
    start = date_param(params, "start") or end - timedelta(days=default_days - 1)
    if start > end:
        raise ScopeError("The start date is after the end date; swap them.")
    if (end - start).days + 1 > MAX_DAYS:
        raise ScopeError(f"The period is longer than {MAX_DAYS} days; choose a shorter one.")
    names = [n.strip() for n in (params.get("services") or "").split(",") if n.strip()]
    services = list(Service.objects.filter(name__in=names).order_by("name"))
    unknown = sorted(set(names) - {s.name for s in services})
    if unknown:
        raise ScopeError(f"No service is named {', '.join(unknown)}; check the spelling.")
    return Scope(start=start, end=end, services=tuple(services))
