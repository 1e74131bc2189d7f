"""Reads of the health app; aggregation happens in SQL, over rollups."""

from health.selectors.latency import (
    LatencyErrorNote,
    LatencyPoint,
    LatencySeries,
    latency_error_note,
    latency_series,
    latency_window,
)
from health.selectors.locations import LOCATION_WINDOW, LocationRow, service_locations
from health.selectors.states import (
    HEALTH_RULE,
    HealthState,
    revision_health,
    revision_stable,
    service_health_states,
)
from health.selectors.uptime import (
    MIN_PROBE_CHECKS,
    DeployMarker,
    Uptime,
    UptimeDay,
    UptimeFigure,
    deploy_markers,
    not_enough_checks,
    service_incidents,
    service_uptime,
    uptime_by_day,
    uptime_figure,
)

__all__ = [
    "HEALTH_RULE",
    "LOCATION_WINDOW",
    "MIN_PROBE_CHECKS",
    "DeployMarker",
    "HealthState",
    "LatencyErrorNote",
    "LatencyPoint",
    "LatencySeries",
    "LocationRow",
    "Uptime",
    "UptimeDay",
    "UptimeFigure",
    "deploy_markers",
    "latency_error_note",
    "latency_series",
    "latency_window",
    "not_enough_checks",
    "revision_health",
    "revision_stable",
    "service_health_states",
    "service_incidents",
    "service_locations",
    "service_uptime",
    "uptime_by_day",
    "uptime_figure",
]
