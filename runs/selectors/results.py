"""One test's result as the test page shows it: texts, attempts and attachments."""

from __future__ import annotations

from runs.models import TestAttachment, TestCase, TestResult


def case_result(*, case: TestCase, run_id: int | None = None) -> TestResult | None:
    """The test's result in run `run_id`, or its latest; with its run and revision."""
    results = TestResult.objects.filter(case=case).select_related("run__revision")
    if run_id is not None:
        return results.filter(run_id=run_id).first()
    return results.order_by("-run_id").first()


def result_attachments(*, result: TestResult) -> list[TestAttachment]:
    """The files (and the notes about files not read) of one result, in report order."""
    return list(TestAttachment.objects.filter(result=result, run_id=result.run_id).order_by("pk"))
