"""The analyze step after every import: draft analyses for new signatures, verify fixed ones."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from analyses.services.analyses import analyses_verify_for_run, analysis_drafts_for_run
from runs.models import TestRun

logger = logging.getLogger(__name__)


def run_analyze_execute(*, run_id: int) -> None:
    """Open a draft per new failure signature of the run and verify analyses it proves fixed.

    Safe to receive twice (the outbox may send a message again): the first call claims the run
    by setting ``analyzed_at`` with a conditional UPDATE, in the transaction that does the work,
    so a second call, even one arriving after later runs verified or reopened its analyses,
    finds the run claimed and does nothing. A call that fails rolls its claim back.
    """
    with transaction.atomic():
        claimed = TestRun.objects.filter(
            pk=run_id,
            analyzed_at__isnull=True,
            status__in=(TestRun.Status.PASSED, TestRun.Status.FAILED),
        ).update(analyzed_at=timezone.now())
        if not claimed:
            logger.info("run %s: nothing to analyze (already analyzed, or not finished)", run_id)
            return
        run = TestRun.objects.select_related("suite", "service", "revision").get(pk=run_id)
        drafts = analysis_drafts_for_run(run=run)
        analyses_verify_for_run(run=run)
    logger.info("run %s analyzed: %d new draft analyses", run_id, len(drafts))
