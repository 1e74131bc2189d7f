"""The one seam where runs emits events to integrations (webhooks); nothing else in runs imports
integrations.

The arrow points integrations → runs: a webhook belongs to a Service and its bodies read runs'
rows. What runs tells integrations goes through here, one line at each place a state becomes
final, inside that write's transaction (a rollback of the write emits nothing):

- a run finished (runs.services.ingest.run_results_written, runs.services.live._streamed_end);
- a gate verdict was stored (runs.services.gates.gate_evaluate);
- a rollback ended (runs.services.rollback.rollback_execute);
- a release sent traffic back to the stable revision (runs.services.release: its chain's
  rollback, and release_restore for the sweeper);
- a run changed status (runs.lifecycle.runs, every move; runs.services.live, a live run created
  running): its commit status (``commit_statuses_on`` says whether any code host is configured,
  so the lifecycle finds the runs' ids only then).
- a run's results are all written: new failure signatures, tests that became flaky
  (runs.services.ingest.run_results_written, runs.services.live._streamed_end);
- a test was quarantined or released (runs.services.states: test_state_set, test_states_expire);
- a loop finished or gave up (runs.services.loops._finish).
"""

from integrations.services.commit_statuses import commit_statuses_for_runs, commit_statuses_on
from integrations.services.events import (
    loop_ended,
    release_rolled_back,
    rollback_finished,
    run_finished,
    run_results_judged,
    test_state_changed,
    verdict_made,
)

__all__ = [
    "commit_statuses_for_runs",
    "commit_statuses_on",
    "loop_ended",
    "release_rolled_back",
    "rollback_finished",
    "run_finished",
    "run_results_judged",
    "test_state_changed",
    "verdict_made",
]
