"""Template tags for the pages of other apps that show analyses (the run page), so that those apps
need not import this one."""

from __future__ import annotations

from django import template

from analyses.models import Analysis
from analyses.selectors.analyses import (
    analyses_for_run,
    analyses_grouped,
    analyses_to_link,
)
from runs.models import TestRun

register = template.Library()


@register.filter
def draft_batches(analyses) -> list:
    """Analyses with the drafts of each run gathered into one expandable group."""
    return analyses_grouped(list(analyses))


@register.simple_tag
def run_analyses(run: TestRun) -> list[Analysis]:
    """The analyses the run page lists (at most 50): see analyses_for_run."""
    return list(analyses_for_run(run=run)[:50])


@register.simple_tag
def linkable_analyses(service_id: int) -> list[dict]:
    """The analyses the triage form offers for a known issue: see analyses_to_link."""
    return analyses_to_link(service_id=service_id)
