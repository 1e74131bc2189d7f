"""Reads of the health app; aggregation happens in SQL, over rollups."""

from health.selectors.latency import LatencyPoint, LatencySeries, latency_series
from health.selectors.states import (
    HEALTH_RULE,
    HealthState,
    revision_health,
    revision_stable,
    service_health_states,
)
from health.selectors.uptime import (
    DeployMarker,
    Uptime,
    UptimeDay,
    deploy_markers,
    service_incidents,
    service_uptime,
    uptime_by_day,
)

__all__ = [
    "HEALTH_RULE",
    "DeployMarker",
    "HealthState",
    "LatencyPoint",
    "LatencySeries",
    "Uptime",
    "UptimeDay",
    "deploy_markers",
    "latency_series",
    "revision_health",
    "revision_stable",
    "service_health_states",
    "service_incidents",
    "service_uptime",
    "uptime_by_day",
]
