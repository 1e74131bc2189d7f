"""The one seam where runs emits events to integrations (webhooks); nothing else in runs imports
integrations.

The arrow points integrations → runs: a webhook belongs to a Service and its bodies read runs'
rows. What runs tells integrations goes through here, one line at each place a state becomes
final, inside that write's transaction (a rollback of the write emits nothing):

- a run finished (runs.services.ingest.run_results_written, runs.services.live._streamed_end);
- a gate verdict was stored (runs.services.gates.gate_evaluate);
- a rollback ended (runs.services.rollback.rollback_execute);
- a run's results are all written: new failure signatures, tests that became flaky
  (runs.services.ingest.run_results_written, runs.services.live._streamed_end);
- a test was quarantined or released (runs.services.states: test_state_set, test_states_expire);
- a loop finished or gave up (runs.services.loops._finish).
"""

from integrations.services.events import (
    loop_ended,
    rollback_finished,
    run_finished,
    run_results_judged,
    test_state_changed,
    verdict_made,
)

__all__ = [
    "loop_ended",
    "rollback_finished",
    "run_finished",
    "run_results_judged",
    "test_state_changed",
    "verdict_made",
]
