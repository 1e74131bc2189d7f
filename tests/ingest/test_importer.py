"""The importer: exact counts for every real report, reruns, signatures, all-or-nothing, dedupe."""

from __future__ import annotations

import gzip

import pytest

from runs.models import FailureSignature, TestCase, TestResult, TestRunArtifact
from runs.services.ingest import IngestError, ReportFile, run_import
from tests.factories import RevisionFactory
from tests.ingest.conftest import EXPECTED, HOSTILE, JUNIT, counts, stored_counts, table_sizes

pytestmark = pytest.mark.django_db


def _report(name: str) -> ReportFile:
    return ReportFile(name=name, data=(JUNIT / name).read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_imports_each_real_report_with_exact_counts(suite, name):
    result = run_import(suite=suite, files=[_report(name)])

    assert result.created
    assert counts(result.run) == EXPECTED[name]
    assert stored_counts(result.run) == EXPECTED[name]
    assert TestCase.objects.filter(suite=suite).count() == EXPECTED[name][0]


def test_it_keeps_flaky_reruns_as_one_passed_result_with_its_attempts(suite):
    run = run_import(suite=suite, files=[_report("surefire-flaky.xml")]).run

    result = TestResult.objects.get(run=run)
    assert (result.outcome, result.flaky, result.attempts) == ("passed", True, 2)


def test_it_keeps_failures_and_errors_apart_with_messages(suite):
    run = run_import(suite=suite, files=[_report("jest-suite-failed-to-run.xml")]).run

    errors = TestResult.objects.filter(run=run, outcome="error")
    assert errors.count() == 2
    assert all(r.message for r in errors)
    assert run.status == "failed"


def test_it_takes_durations_from_the_report(suite):
    run = run_import(suite=suite, files=[_report("pytest-xunit2.xml")]).run

    assert run.duration > 0
    assert sum(TestResult.objects.filter(run=run).values_list("duration", flat=True)) > 0


def test_the_same_test_in_the_next_run_is_the_same_test_case(suite):
    first = run_import(suite=suite, files=[_report("gotestsum.xml")]).run
    revision = RevisionFactory(service=suite.service)

    second = run_import(suite=suite, revision=revision, files=[_report("gotestsum.xml")]).run

    assert second.pk != first.pk
    assert TestCase.objects.filter(suite=suite).count() == 60
    assert set(first.results.values_list("case_id", flat=True)) == set(
        second.results.values_list("case_id", flat=True)
    )


def test_it_returns_the_existing_run_for_the_same_files_suite_and_revision(suite):
    first = run_import(suite=suite, files=[_report("mocha.xml")])
    before = table_sizes()

    again = run_import(suite=suite, files=[_report("mocha.xml")])

    assert not again.created
    assert again.run.pk == first.run.pk
    assert table_sizes() == before


def test_it_groups_failures_by_signature(suite):
    run = run_import(suite=suite, files=[_report("gotestsum.xml")]).run

    failing = TestResult.objects.filter(run=run, outcome__in=["failed", "error"])
    assert failing.count() == 13
    assert not failing.filter(signature__isnull=True).exists()
    assert 1 <= FailureSignature.objects.filter(suite=suite).count() <= 13
    assert not TestResult.objects.filter(
        run=run, outcome="passed", signature__isnull=False
    ).exists()


def test_it_keeps_the_raw_files_as_artifacts(suite):
    data = (JUNIT / "pytest-fail.xml").read_bytes()

    run = run_import(suite=suite, files=[ReportFile(name="pytest-fail.xml", data=data)]).run

    artifact = TestRunArtifact.objects.get(run=run)
    assert artifact.name == "pytest-fail.xml"
    assert artifact.size == len(data)
    with artifact.file.open("rb") as stored:
        assert stored.read() == data


def test_it_reads_a_gzip_compressed_report(suite):
    data = gzip.compress((JUNIT / "phpunit-nested.xml").read_bytes())

    run = run_import(suite=suite, files=[ReportFile(name="phpunit.xml.gz", data=data)]).run

    assert counts(run) == EXPECTED["phpunit-nested.xml"]


def test_several_files_make_one_run(suite):
    run = run_import(suite=suite, files=[_report("mocha.xml"), _report("pytest-fail.xml")]).run

    assert run.total == 109 + 5
    assert run.artifacts.count() == 2


@pytest.mark.parametrize("bad", sorted(HOSTILE))
def test_a_bad_file_among_good_ones_stores_nothing(suite, bad):
    data, expected = HOSTILE[bad]
    before = table_sizes()

    with pytest.raises(IngestError) as error:
        run_import(suite=suite, files=[_report("mocha.xml"), ReportFile(name=bad, data=data)])

    assert expected in str(error.value)
    assert error.value.file == bad
    assert table_sizes() == before


def test_it_refuses_a_file_over_the_size_limit_before_parsing(suite, settings):
    settings.INGEST_MAX_BYTES = 1024

    with pytest.raises(
        IngestError, match=r"mocha.xml is \d+\.\d kB, over the 1.0 kB limit"
    ) as error:
        run_import(suite=suite, files=[_report("mocha.xml")])

    assert error.value.file == "mocha.xml"
    assert table_sizes() == (0, 0, 0, 0, 0)


def test_a_report_without_tests_is_an_error_run_not_a_green_one(suite):
    run = run_import(
        suite=suite, files=[ReportFile(name="e.xml", data=b'<testsuites name="none"/>')]
    ).run

    assert run.status == "error"
    assert "nothing was tested" in run.error


def _suite_xml(*cases: str) -> bytes:
    return ("<testsuite name='s'>" + "".join(cases) + "</testsuite>").encode()


def test_the_importer_keeps_which_tests_have_ever_failed_or_taken_time(suite):
    run_import(
        suite=suite,
        files=[
            ReportFile(
                name="a.xml",
                data=_suite_xml(
                    "<testcase classname='c' name='instant' time='0'/>",
                    "<testcase classname='c' name='slow' time='0.5'/>",
                    "<testcase classname='c' name='later_fails' time='0'/>",
                ),
            )
        ],
    )
    real = dict(TestCase.objects.filter(suite=suite).values_list("name", "ever_real"))
    assert real == {"instant": False, "slow": True, "later_fails": False}

    run_import(
        suite=suite,
        files=[
            ReportFile(
                name="b.xml",
                data=_suite_xml(
                    "<testcase classname='c' name='instant' time='0'/>",
                    "<testcase classname='c' name='later_fails' time='0'><failure message='x'/>"
                    "</testcase>",
                ),
            )
        ],
    )

    real = dict(TestCase.objects.filter(suite=suite).values_list("name", "ever_real"))
    assert real == {"instant": False, "slow": True, "later_fails": True}


def test_messages_keep_tabs_newlines_backslashes_and_carriage_returns(suite):
    text = "line one\ttabbed\r\nC:\\temp\\new \\N not null\nlast"
    data = _suite_xml(
        "<testcase classname='c' name='t' time='1'><failure message='m'><![CDATA["
        + text
        + "]]></failure><system-out>out\\put\t1</system-out></testcase>"
    )

    run = run_import(suite=suite, files=[ReportFile(name="esc.xml", data=data)]).run

    result = TestResult.objects.get(run=run)
    assert result.details == text.replace("\r\n", "\n")  # XML normalizes line ends
    assert result.output == "out\\put\t1"
    assert result.signature is not None
