"""Writes of the health app: claiming due probes, recording outcomes, default probes, retention."""

from health.services.claiming import (
    probes_claim_due,
    probes_claim_due_located,
    probes_claim_due_with_times,
)
from health.services.probes import probe_default_for, probe_specs_build, service_probe_ensure
from health.services.recording import probe_results_record
from health.services.retention import retention_prune

__all__ = [
    "probe_default_for",
    "probe_results_record",
    "probe_specs_build",
    "probes_claim_due",
    "probes_claim_due_located",
    "probes_claim_due_with_times",
    "retention_prune",
    "service_probe_ensure",
]
