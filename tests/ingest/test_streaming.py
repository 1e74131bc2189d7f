"""The importer writes as it parses: exact results whatever the batch boundaries, reruns folded
across batches and files, and a report broken in its middle leaves nothing behind."""

from __future__ import annotations

import pytest

from engine.junit import parse_report
from runs.models import FailureSignature, TestCase, TestResult, TestRun
from runs.services import ingest_results
from runs.services.ingest import IngestError, ReportFile, run_import
from tests.ingest.conftest import EXPECTED, JUNIT, counts, stored_counts, table_sizes

pytestmark = pytest.mark.django_db


COLOURS = ("red", "green", "blue")


def _generated(cases: int, *, broken_at: int | None = None, extra: str = "") -> bytes:
    """`cases` tests in suites of 500: every 50th fails, every 70th is skipped."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n']
    for start in range(0, cases, 500):
        parts.append(f'<testsuite name="pkg.mod{start // 500}">\n')
        for i in range(start, min(start + 500, cases)):
            if i == broken_at:
                parts.append('<testcase classname="pkg.Broken" name="half" time="0.1"><failure')
                return "".join(parts).encode()
            head = f'<testcase classname="pkg.mod{start // 500}.T" name="test_{i}" time="0.01"'
            if i % 50 == 0:
                parts.append(
                    f'{head}><failure message="expected {COLOURS[i % 3]}">trace</failure>'
                    "</testcase>\n"
                )
            elif i % 70 == 0:
                parts.append(f"{head}><skipped/></testcase>\n")
            else:
                parts.append(f"{head}/>\n")
        parts.append("</testsuite>\n")
    parts.append(extra)
    parts.append("</testsuites>\n")
    return "".join(parts).encode()


def _expected_counts(cases: int) -> tuple[int, ...]:
    failed = len(range(0, cases, 50))
    skipped = sum(1 for i in range(cases) if i % 70 == 0 and i % 50)
    return (cases, cases - failed - skipped, failed, 0, skipped, 0)


def _rows(run: TestRun) -> dict[str, tuple]:
    return {
        r.case.key: (
            r.outcome,
            r.attempts,
            r.flaky,
            round(r.duration, 6),
            r.message,
            r.details,
            r.output,
            len(r.attempt_log or []),
        )
        for r in TestResult.objects.filter(run=run).select_related("case")
    }


def test_a_report_of_twenty_thousand_cases_imports_with_exact_counts(suite):
    data = _generated(20_000)

    run = run_import(suite=suite, files=[ReportFile(name="big.xml", data=data)]).run

    assert counts(run) == _expected_counts(20_000)
    assert stored_counts(run) == _expected_counts(20_000)
    assert TestCase.objects.filter(suite=suite).count() == 20_000
    failing = TestResult.objects.filter(run=run, outcome="failed")
    assert not failing.filter(signature__isnull=True).exists()
    assert FailureSignature.objects.filter(suite=suite).count() == 3  # "expected red/green/blue"
    assert run.status == "failed"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tiny_batches_store_what_the_whole_file_parser_reads(suite, name, monkeypatch):
    # Batches of 2 put nearly every rerun and repeated title across a batch boundary.
    monkeypatch.setattr(ingest_results, "BATCH", 2)
    report = parse_report((JUNIT / name).read_bytes(), name=name)

    run = run_import(
        suite=suite, files=[ReportFile(name=name, data=(JUNIT / name).read_bytes())]
    ).run

    assert counts(run) == EXPECTED[name]
    assert stored_counts(run) == EXPECTED[name]
    assert _rows(run) == {
        c.key: (
            c.outcome,
            c.attempts,
            c.flaky,
            round(c.duration, 6),
            c.message,
            c.details,
            c.output,
            len(c.attempt_log),
        )
        for c in report.cases
    }


RERUNS = b"""<testsuites><testsuite name="s">
<testcase classname="c" name="flaky" time="1"><failure message="boom">trace</failure></testcase>
<testcase classname="c" name="same title" time="1"/>
<testcase classname="c" name="a" time="1"/>
<testcase classname="c" name="b" time="1"/>
<testcase classname="c" name="flaky" time="2"/>
<testcase classname="c" name="same title" time="1"/>
</testsuite></testsuites>"""


def test_a_rerun_after_other_batches_folds_into_the_failure_it_repeats(suite, monkeypatch):
    monkeypatch.setattr(ingest_results, "BATCH", 1)

    run = run_import(suite=suite, files=[ReportFile(name="r.xml", data=RERUNS)]).run

    flaky = TestResult.objects.get(run=run, case__key="s \u203a c::flaky")
    assert (flaky.outcome, flaky.attempts, flaky.flaky, flaky.duration) == ("passed", 2, True, 3)
    assert [a["outcome"] for a in flaky.attempt_log] == ["failed", "passed"]
    assert flaky.signature_id is None  # it passed in the end
    keys = set(TestResult.objects.filter(run=run).values_list("case__key", flat=True))
    assert keys == {
        "s \u203a c::flaky",
        "s \u203a c::same title",
        "s \u203a c::same title #2",
        "s \u203a c::a",
        "s \u203a c::b",
    }
    assert counts(run) == (5, 5, 0, 0, 0, 1)


def test_the_same_tests_in_two_files_are_one_result_each_with_both_attempts(suite, monkeypatch):
    monkeypatch.setattr(ingest_results, "BATCH", 500)
    data = _generated(1_500)

    run = run_import(
        suite=suite,
        files=[ReportFile(name="first.xml", data=data), ReportFile(name="again.xml", data=data)],
    ).run

    assert counts(run) == _expected_counts(1_500)
    assert not TestResult.objects.filter(run=run).exclude(attempts=2).exists()
    result = TestResult.objects.get(run=run, case__key="pkg.mod0.T::test_50")
    assert [a["outcome"] for a in result.attempt_log] == ["failed", "failed"]


def test_a_report_broken_in_its_middle_leaves_nothing_half_written(suite, monkeypatch):
    monkeypatch.setattr(ingest_results, "BATCH", 500)
    before = table_sizes()
    # 2,000 cases are read (four batches written) before the report ends mid-element.
    data = _generated(3_000, broken_at=2_000)

    with pytest.raises(IngestError) as caught:
        run_import(suite=suite, files=[ReportFile(name="cut.xml", data=data)])

    assert caught.value.file == "cut.xml"
    assert "cut.xml is not well-formed XML: line" in str(caught.value)
    assert table_sizes() == before
    assert not TestCase.objects.filter(suite=suite).exists()


def test_a_second_file_broken_in_its_middle_undoes_the_first(suite, monkeypatch):
    monkeypatch.setattr(ingest_results, "BATCH", 500)
    before = table_sizes()
    bad = _generated(1_600, extra='<testcase classname="x" name="y" time="1e300"/>')

    with pytest.raises(IngestError) as caught:
        run_import(
            suite=suite,
            files=[
                ReportFile(name="good.xml", data=_generated(1_400)),
                ReportFile(name="bad.xml", data=bad),
            ],
        )

    assert caught.value.file == "bad.xml"
    assert "is not a duration in seconds" in str(caught.value)
    assert table_sizes() == before


def test_a_report_on_disk_is_imported_from_its_path(suite, tmp_path):
    path = tmp_path / "disk.xml"
    path.write_bytes(_generated(1_200))

    result = run_import(suite=suite, files=[ReportFile(name="disk.xml", path=str(path))])

    assert counts(result.run) == _expected_counts(1_200)
    artifact = result.run.artifacts.get()
    assert (artifact.name, artifact.size) == ("disk.xml", path.stat().st_size)
    assert artifact.file.read() == path.read_bytes()
    again = run_import(suite=suite, files=[ReportFile(name="disk.xml", data=path.read_bytes())])
    assert (again.created, again.run.pk) == (False, result.run.pk)
