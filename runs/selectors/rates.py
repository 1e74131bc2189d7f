"""Shared definitions for reads: what counts as failing, and pass rate as an SQL expression."""

from __future__ import annotations

from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, Sum
from django.db.models.functions import Cast, NullIf

from runs.models.testing import Outcome

FAILING = (Outcome.FAILED, Outcome.ERROR)
OUTCOMES = tuple(Outcome.values)
RATE_DEFINITION = "Pass rate = passed / (passed + failed + errors); skipped tests are excluded."


def run_pass_rate(prefix: str = ""):
    """Pass rate over TestRun rows (their stored counts), as a float in 0..1 or NULL."""
    passed = Sum(f"{prefix}passed")
    counted = Sum(F(f"{prefix}passed") + F(f"{prefix}failed") + F(f"{prefix}errors"))
    return ExpressionWrapper(
        Cast(passed, FloatField()) / NullIf(Cast(counted, FloatField()), 0.0),
        output_field=FloatField(),
    )


def result_pass_rate():
    """Pass rate over TestResult rows, as a float in 0..1 or NULL."""
    passed = Count("pk", filter=Q(outcome=Outcome.PASSED))
    counted = Count("pk", filter=~Q(outcome=Outcome.SKIPPED))
    return ExpressionWrapper(
        Cast(passed, FloatField()) / NullIf(Cast(counted, FloatField()), 0.0),
        output_field=FloatField(),
    )


def each_run_pass_rate():
    """Pass rate of each TestRun row from its own counts, as a float in 0..1 or NULL."""
    counted = F("passed") + F("failed") + F("errors")
    return ExpressionWrapper(
        Cast("passed", FloatField()) / NullIf(Cast(counted, FloatField()), 0.0),
        output_field=FloatField(),
    )
