"""The analyze step after every import: draft analyses for new signatures, verify fixed ones."""

from __future__ import annotations

import logging

from analyses.services.analyses import analyses_verify_for_run, analysis_drafts_for_run
from runs.models import TestRun

logger = logging.getLogger(__name__)


def run_analyze_execute(*, run_id: int) -> None:
    """Open a draft per new failure signature of the run and verify analyses it proves fixed.

    Safe to run twice: drafts are never duplicated for a signature with an open analysis.
    """
    run = TestRun.objects.select_related("suite", "service", "revision").filter(pk=run_id).first()
    if run is None or run.status not in (TestRun.Status.PASSED, TestRun.Status.FAILED):
        logger.info("run %s: nothing to analyze", run_id)
        return
    drafts = analysis_drafts_for_run(run=run)
    analyses_verify_for_run(run=run)
    logger.info("run %s analyzed: %d new draft analyses", run_id, len(drafts))
