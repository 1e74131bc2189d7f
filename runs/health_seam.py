"""The one seam where runs calls into health; nothing else in runs imports health.

The arrow points health → runs: a probe belongs to a Service, and health's pages and rollups read
runs' rows. What runs asks of health goes through here, and the import-linter contract
"runs does not import health" allows this module alone:

- a default probe for a service made in the admin or by the demo seeder;
- whether a new revision is stable under its probes (a deploy, and a loop before it ends);
- samples of two revisions probed side by side, for a canary step's comparison;
- the health state shown on the service and revision pages;
- the SLOs whose error budget is spent, for the release gate.
"""

from health.selectors.slos import slo_statuses
from health.selectors.states import revision_health, service_health_states
from health.services.comparing import Samples, revisions_probe_compare
from health.services.probes import service_probe_ensure
from health.services.waiting import Stability, revision_wait_stable

__all__ = [
    "Samples",
    "Stability",
    "revision_health",
    "revision_wait_stable",
    "revisions_probe_compare",
    "service_health_states",
    "service_probe_ensure",
    "slo_statuses",
]
