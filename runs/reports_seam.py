"""The one seam where runs calls into reports; nothing else in runs imports reports.

The arrow points reports → runs: a capability maps to runs' tests. What runs tells reports goes
through here, and the import-linter layers allow this module alone:

- tests were created (an import, the live API) or an import's tests were search-indexed: map
  them to the capabilities (reports.CapabilityCase) in the same transaction;
- a run's results are about to become its tests' latest (runs.CaseLatest), or a suite's latest
  results were repaired, or tests were deleted: move the summary's counts
  (reports.CapabilityTally) in the same transaction.
"""

from reports.services.capability_cases import capability_cases_map
from reports.services.capability_tallies import tallies_fold_run, tallies_rebuild

__all__ = ["capability_cases_map", "tallies_fold_run", "tallies_rebuild"]
