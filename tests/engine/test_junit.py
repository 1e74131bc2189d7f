"""The JUnit parser: real reports from ten tools, every rerun form, and hostile input."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.junit import JUnitError, ParsedReport, parse_report
from engine.junit.values import parse_seconds, parse_timestamp
from tests.junit_reports import EXPECTED as COUNTS

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data" / "junit"


def report(body: str, *, root: str = "testsuites") -> ParsedReport:
    """Parse a small report written inline, wrapped in a root element."""
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{body}</{root}>'
    return parse_report(xml.encode())


def only_case(body: str):
    parsed = report(f'<testsuite name="s">{body}</testsuite>')
    assert len(parsed.cases) == 1
    return parsed.cases[0]


def by_key(parsed: ParsedReport) -> dict:
    return {case.key: case for case in parsed.cases}


@pytest.mark.parametrize("filename", sorted(COUNTS))
def test_it_counts_each_real_report_from_its_cases(filename: str) -> None:
    parsed = parse_report(DATA / filename)

    counts = (
        parsed.total,
        parsed.passed,
        parsed.failed,
        parsed.error,
        parsed.skipped,
        parsed.flaky,
    )
    assert counts == COUNTS[filename]


@pytest.mark.parametrize("filename", sorted(COUNTS))
def test_it_gives_every_result_of_a_real_report_its_own_key(filename: str) -> None:
    parsed = parse_report(DATA / filename)

    assert len({case.key for case in parsed.cases}) == len(parsed.cases)


def test_it_ignores_declared_counts_that_do_not_match_the_cases() -> None:
    parsed = parse_report(DATA / "gotestsum.xml")  # declares tests="59" failures="13" errors="1"

    assert (parsed.total, parsed.failed, parsed.error) == (60, 13, 0)


def test_it_reads_gotestsum_failures_skips_and_package_level_failures() -> None:
    cases = by_key(parse_report(DATA / "gotestsum.xml"))

    main = cases["gotest.tools/gotestsum/testjson/internal/badmain::TestMain"]
    assert (main.outcome, main.message, main.duration, main.attempts) == ("failed", "Failed", 0, 1)
    assert main.classname == ""
    assert "sometimes main can exit 2" in main.details
    first = cases["gotest.tools/gotestsum/testjson/internal/parallelfails::TestParallelTheFirst"]
    assert (first.outcome, first.duration) == ("failed", 0.01)
    assert "fails_test.go:29: failed the first" in first.details
    skipped = cases["gotest.tools/gotestsum/testjson/internal/good::TestSkippedWitLog"]
    assert (skipped.outcome, skipped.message) == ("skipped", "=== RUN   TestSkippedWitLog")
    assert "the skip message" in skipped.details


def test_it_keeps_go_subtest_paths_as_distinct_tests() -> None:
    cases = by_key(parse_report(DATA / "gotestsum.xml"))
    prefix = "gotest.tools/gotestsum/testjson/internal/withfails::TestNestedWithFailure"

    assert cases[f"{prefix}/c"].outcome == "failed"
    assert cases[f"{prefix}/a/sub"].outcome == "passed"
    assert cases[prefix].outcome == "failed"


def test_it_reads_the_go_suite_properties() -> None:
    parsed = parse_report(DATA / "gotestsum.xml")

    assert parsed.properties == {"go.version": "go7.7.7"}
    assert parsed.started_at is None  # year 1 placeholder timestamps
    assert parsed.duration == 2.1


def test_it_reads_jest_failures_and_skips_keyed_by_test_file() -> None:
    parsed = parse_report(DATA / "jest-monorepo.xml")
    cases = by_key(parsed)

    hg = cases["e2e/__tests__/jestChangedFiles.test.ts::gets changed files for hg"]
    assert (hg.outcome, hg.duration, hg.attempts) == ("failed", 2.219, 1)
    assert hg.message == "Error: abort: empty revision range"
    assert "at makeError" in hg.details
    pending = [
        case
        for case in parsed.cases
        if case.classname == "async jasmine with pending during test"
        and case.name == "should be reported as a pending test"
    ]
    assert [case.outcome for case in pending] == ["skipped"]
    assert parsed.started_at == datetime(2021, 1, 24, 19, 21, 45, tzinfo=UTC)
    assert len(parsed.suites) == 400


def test_it_keeps_tests_apart_that_share_a_describe_title_in_different_files() -> None:
    parsed = parse_report(DATA / "jest-monorepo.xml")
    title = "it throws error with missing callback function"

    keys = sorted(case.key for case in parsed.cases if case.name == title)

    assert keys == [
        "packages/jest-circus/src/__tests__/circusItTestError.test.ts"
        f" \u203a test/it error throwing::{title}",
        "packages/jest-jasmine2/src/__tests__/itTestError.test.ts"
        f" \u203a test/it error throwing::{title}",
    ]


def test_it_numbers_same_titled_passing_tests_instead_of_merging_them() -> None:
    cases = by_key(parse_report(DATA / "jest-monorepo.xml"))
    base = (
        "packages/jest-validate/src/__tests__/validate.test.ts"
        "::treat async and non-async functions as equivalent"
    )

    assert [cases[key].attempts for key in (base, f"{base} #2", f"{base} #3", f"{base} #4")] == [
        1,
        1,
        1,
        1,
    ]
    assert f"{base} #5" not in cases


def test_it_reports_a_jest_suite_that_failed_to_load_as_an_error() -> None:
    parsed = parse_report(DATA / "jest-suite-failed-to-run.xml")
    case = parsed.cases[0]

    assert case.key == "libs/foo.spec.ts \u203a Test suite failed to run::libs/foo.spec.ts"
    assert (case.outcome, case.duration) == ("error", 0)
    assert case.message == "\u25cf Test suite failed to run"
    assert "error TS6258: 'typeRoots' should be set" in case.details
    assert parsed.started_at is None  # 1970-01-01 placeholder


def test_it_reads_a_bare_mocha_testsuite_with_an_rfc_1123_timestamp() -> None:
    parsed = parse_report(DATA / "mocha.xml")
    cases = by_key(parsed)

    assert parsed.started_at == datetime(2022, 12, 3, 23, 10, 7, tzinfo=UTC)
    assert parsed.duration == 0.29
    first = cases["Mocha Tests \u203a bibtexParser::parse a simple bib file"]
    assert (first.outcome, first.duration, first.suite) == ("passed", 0.003, "Mocha Tests")
    assert cases["Mocha Tests \u203a bibtexParser::parse entry with command #2"].duration == 0.001


def test_it_reads_phpunit_nested_suites_and_failures_without_message() -> None:
    parsed = parse_report(DATA / "phpunit-nested.xml")
    cases = by_key(parsed)

    assert parsed.suites[:3] == [
        "/workspace/phpcheckstyle/phpunit.xml",
        "PHPUnitTestSuite",
        "CommentsTest",
    ]
    other = cases["OtherTest::testOther"]
    assert (other.outcome, other.duration, other.suite) == ("failed", 0.005251, "OtherTest")
    assert other.message == "OtherTest::testOther"
    assert "Failed asserting that 19 matches expected 20." in other.details
    assert other.file == "/workspace/phpcheckstyle/test/OtherTest.php"
    assert 'File "./test/sample/bad_other.php" warning, line 17' in other.output
    assert cases["OtherTest::testException"].message == "OtherTest::testException"
    assert cases["CommentsTest::testGoodDoc"].outcome == "passed"


def test_it_reads_pytest_failures_and_skips() -> None:
    cases = by_key(parse_report(DATA / "pytest-fail.xml"))
    prefix = "pytest \u203a test.test_spark.SparkTests::"

    rsh = cases[prefix + "test_rsh_events"]
    assert (rsh.outcome, rsh.duration, rsh.file) == ("failed", 7.541, "test/test_spark.py")
    assert rsh.message.startswith("self = <test_spark.SparkTests testMethod=test_rsh_events>")
    assert "\n" not in rsh.message
    devices = cases[prefix + "test_get_available_devices"]
    assert devices.outcome == "skipped"
    assert devices.message == "get_available_devices only supported in Spark 3.0 and above"
    assert cases[prefix + "test_check_shape_compatibility"].duration == 6.435


def test_it_reads_pytest_xunit2_properties_params_and_offsets() -> None:
    parsed = parse_report(DATA / "pytest-xunit2.xml")
    cases = by_key(parsed)
    prefix = "pytest \u203a tests.test_lib::"

    assert parsed.started_at == datetime(2025, 11, 15, 16, 51, 49, 548396, tzinfo=UTC)
    assert parsed.properties == {"custom_prop": "custom_val"}
    assert cases[prefix + "test_with_record_property"].properties == {"example_key": "1"}
    assert cases[prefix + "test_parameterized[param1]"].outcome == "passed"
    assert cases[prefix + "test_parameterized[param2]"].outcome == "passed"
    assert cases[prefix + "test_always_fail"].message == "assert False"
    assert cases[prefix + "test_expected_failure"].outcome == "skipped"
    assert cases["pytest \u203a custom_classname::test_with_record_xml_attribute"]


def test_it_marks_a_surefire_flaky_failure_passed_on_rerun_as_flaky() -> None:
    case = parse_report(DATA / "surefire-flaky.xml").cases[0]

    assert case.key == (
        "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest::createWebhook"
    )
    assert (case.outcome, case.flaky, case.attempts, case.duration) == ("passed", True, 2, 0.683)
    assert case.message == "Expected: <false>"
    assert "MicrosoftTeamsCrudTest.java:58" in case.details
    assert case.error_output == "Some error output here"


def test_it_keeps_testng_data_provider_invocations_as_distinct_results() -> None:
    parsed = parse_report(DATA / "surefire-testng-pulsar.xml")

    acks = [case for case in parsed.cases if case.name == "testNegativeAcks"]

    assert len(acks) == 32
    assert {case.outcome for case in acks} == {"passed"}
    assert all(case.attempts == 1 for case in acks)


def test_it_reads_the_pulsar_failure_and_missing_times() -> None:
    parsed = parse_report(DATA / "surefire-testng-pulsar.xml")
    cases = by_key(parsed)
    versions = "org.apache.pulsar.AddMissingPatchVersionTest::testVersionStrings"

    assert (cases[versions].outcome, cases[versions].duration) == ("skipped", 0.099)
    failed = cases[f"{versions} #2"]
    assert (failed.outcome, failed.duration, failed.attempts) == ("failed", 0.017, 1)
    assert failed.message == "expected [1.2.1] but found [1.2.0]"
    chunk = cases["org.apache.pulsar.client.impl.MessageChunkingTest::testMaxPendingChunkMessages"]
    assert (chunk.outcome, chunk.duration) == ("skipped", 0)
    assert (
        "case org.apache.pulsar.client.impl.MessageChunkingTest::testMaxPendingChunkMessages: "
        "missing time recorded as 0"
    ) in parsed.warnings


def test_it_refuses_well_formed_xml_that_is_not_a_report_naming_its_root() -> None:
    with pytest.raises(JUnitError) as caught:
        parse_report(DATA / "not-junit.xml")

    assert str(caught.value) == (
        "The file not-junit.xml is not a JUnit report: its root element is <suites>, "
        "expected <testsuites> or <testsuite>."
    )


# --- outcomes -------------------------------------------------------------------------


def test_it_keeps_assertion_failures_and_crashes_apart() -> None:
    parsed = report(
        '<testsuite name="s">'
        '<testcase classname="c" name="asserts"><failure message="expected 1"/></testcase>'
        '<testcase classname="c" name="crashes"><error message="NullPointerException"/>'
        "</testcase></testsuite>"
    )
    cases = by_key(parsed)

    assert cases["s \u203a c::asserts"].outcome == "failed"
    assert cases["s \u203a c::crashes"].outcome == "error"
    assert cases["s \u203a c::crashes"].message == "NullPointerException"


def test_it_joins_the_details_of_several_failures_in_one_case() -> None:
    case = only_case(
        '<testcase name="t"><failure message="first">trace one</failure>'
        '<failure message="second">trace two</failure></testcase>'
    )

    assert (case.outcome, case.message) == ("failed", "first")
    assert case.details == "trace one\n\ntrace two"


def test_it_lets_a_failure_win_over_a_teardown_error_in_the_same_case() -> None:
    case = only_case(
        '<testcase name="t"><error message="teardown broke">e</error>'
        '<failure message="assert 1 == 2">f</failure></testcase>'
    )

    assert (case.outcome, case.message, case.details) == ("failed", "assert 1 == 2", "e\n\nf")


@pytest.mark.parametrize(
    ("skipped", "message"),
    [
        ("<skipped/>", ""),
        ('<skipped message="not on linux"/>', "not on linux"),
        ("<skipped>\n  needs a GPU\n  really</skipped>", "needs a GPU"),
    ],
)
def test_it_reads_skips_with_or_without_a_message(skipped: str, message: str) -> None:
    case = only_case(f'<testcase name="t">{skipped}</testcase>')

    assert (case.outcome, case.message) == ("skipped", message)


def test_it_takes_the_first_non_empty_line_of_a_failure_without_message() -> None:
    case = only_case(
        '<testcase name="t"><failure>\n\n  AssertionError: x\n  at y</failure></testcase>'
    )

    assert case.message == "AssertionError: x"
    assert case.details == "\n\n  AssertionError: x\n  at y"


def test_it_falls_back_to_the_failure_type_when_there_is_no_text() -> None:
    case = only_case('<testcase name="t"><failure type="java.lang.AssertionError"/></testcase>')

    assert (case.outcome, case.message) == ("failed", "java.lang.AssertionError")


# --- reruns ---------------------------------------------------------------------------


def test_it_counts_every_surefire_flaky_error_as_an_attempt() -> None:
    case = only_case(
        '<testcase name="t" time="2"><flakyError message="timeout" type="IOException">'
        "<stackTrace>java.io.IOException: timeout</stackTrace></flakyError>"
        '<flakyFailure message="boom"><stackTrace>AssertionError: boom</stackTrace>'
        "<system-out>retry log</system-out></flakyFailure></testcase>"
    )

    assert (case.outcome, case.flaky, case.attempts, case.duration) == ("passed", True, 3, 2.0)
    assert case.message == "timeout"
    assert case.details == "java.io.IOException: timeout\n\nAssertionError: boom"
    assert case.output == "retry log"


def test_it_reports_a_test_that_failed_every_rerun_as_failed_not_flaky() -> None:
    case = only_case(
        '<testcase name="t"><failure message="first">one</failure>'
        '<rerunFailure message="again"><stackTrace>two</stackTrace></rerunFailure>'
        '<rerunFailure message="still"><stackTrace>three</stackTrace></rerunFailure>'
        "</testcase>"
    )

    assert (case.outcome, case.flaky, case.attempts) == ("failed", False, 3)
    assert case.details == "one\n\ntwo\n\nthree"


def test_it_takes_the_outcome_of_the_last_rerun_error() -> None:
    case = only_case(
        '<testcase name="t"><failure message="assert">one</failure>'
        '<rerunError message="crash"><stackTrace>two</stackTrace></rerunError></testcase>'
    )

    assert (case.outcome, case.flaky, case.attempts) == ("error", False, 2)


def test_it_folds_a_repeated_failed_case_that_passed_on_rerun_into_one_flaky_result() -> None:
    parsed = report(
        '<testsuite name="pkg">'
        '<testcase classname="pkg" name="TestA" time="0.5"><failure message="Failed">x</failure>'
        "</testcase>"
        '<testcase classname="pkg" name="TestB" time="0.1"/>'
        '<testcase classname="pkg" name="TestA" time="0.25"/>'
        "</testsuite>"
    )

    assert [case.key for case in parsed.cases] == ["pkg::TestA", "pkg::TestB"]
    rerun = parsed.cases[0]
    assert (rerun.outcome, rerun.flaky, rerun.attempts, rerun.duration) == (
        "passed",
        True,
        2,
        0.75,
    )
    assert rerun.message == "Failed"
    assert (parsed.total, parsed.passed, parsed.flaky) == (2, 2, 1)


def test_it_folds_a_case_that_failed_on_every_repeat_into_one_failed_result() -> None:
    parsed = report(
        '<testsuite name="pkg">'
        '<testcase classname="pkg" name="TestA"><failure message="one"/></testcase>'
        '<testcase classname="pkg" name="TestA"><error message="two"/></testcase>'
        '<testcase classname="pkg" name="TestA"><failure message="three"/></testcase>'
        "</testsuite>"
    )

    (case,) = parsed.cases
    assert (case.outcome, case.flaky, case.attempts, case.message) == (
        "failed",
        False,
        3,
        "three",
    )


def test_it_treats_a_repeat_after_a_pass_as_a_distinct_test() -> None:
    parsed = report(
        '<testsuite name="pkg">'
        '<testcase classname="pkg" name="TestA"/>'
        '<testcase classname="pkg" name="TestA"><failure message="boom"/></testcase>'
        "</testsuite>"
    )

    assert [(case.key, case.outcome) for case in parsed.cases] == [
        ("pkg::TestA", "passed"),
        ("pkg::TestA #2", "failed"),
    ]


# --- times and timestamps ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds", "problem"),
    [
        ("1.5", 1.5, None),
        ("1,234.5", 1234.5, None),
        ("12,345,678", 12345678.0, None),
        ("0,25", 0.25, None),
        (None, 0.0, "missing time recorded as 0"),
        ("", 0.0, "missing time recorded as 0"),
        ("-1.5", 0.0, "negative time -1.5 recorded as 0"),
        ("soon", 0.0, "unreadable time 'soon' recorded as 0"),
        ("nan", 0.0, "unreadable time 'nan' recorded as 0"),
    ],
)
def test_it_reads_times_as_non_negative_seconds(
    value: str | None, seconds: float, problem: str | None
) -> None:
    assert parse_seconds(value) == (seconds, problem)


def test_it_records_negative_and_thousands_separated_times_with_a_warning() -> None:
    parsed = report(
        '<testsuite name="s">'
        '<testcase classname="c" name="slow" time="1,234.5"/>'
        '<testcase classname="c" name="odd" time="-1.5"/>'
        "</testsuite>"
    )
    cases = by_key(parsed)

    assert cases["s \u203a c::slow"].duration == 1234.5
    assert cases["s \u203a c::odd"].duration == 0
    assert parsed.warnings == ["case s \u203a c::odd: negative time -1.5 recorded as 0"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00.250+02:00", datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)),
        ("2024-05-01 10:00:00-05:00", datetime(2024, 5, 1, 15, 0, tzinfo=UTC)),
        ("Sat, 03 Dec 2022 23:10:07 GMT", datetime(2022, 12, 3, 23, 10, 7, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("0001-01-01T00:00:00+05:00", None),
        ("1970-01-01T00:00:00", None),
        ("", None),
        (None, None),
    ],
)
def test_it_reads_timestamps_as_aware_utc_or_none(
    value: str | None, expected: datetime | None
) -> None:
    moment, problem = parse_timestamp(value)

    assert (moment, problem) == (expected, None)
    assert moment is None or moment.tzinfo is UTC


def test_it_ignores_an_unreadable_timestamp_with_a_warning() -> None:
    parsed = report(
        '<testsuite name="s" timestamp="yesterday"><testcase name="t" time="1"/></testsuite>'
    )

    assert parsed.started_at is None
    assert parsed.warnings == ["suite s: unreadable timestamp 'yesterday' ignored"]


def test_it_starts_the_report_at_its_earliest_suite() -> None:
    parsed = report(
        '<testsuite name="a" timestamp="2024-05-01T10:00:05Z" time="1"/>'
        '<testsuite name="b" timestamp="2024-05-01T10:00:00Z" time="2"/>'
    )

    assert parsed.started_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert parsed.duration == 3.0


# --- output, properties, attachments, odd characters ---------------------------------


def test_it_keeps_case_and_suite_output_apart() -> None:
    parsed = report(
        '<testsuite name="s"><properties><property name="env" value="staging"/></properties>'
        "<system-out>suite before</system-out>"
        '<testcase name="t"><system-out><![CDATA[<b>out</b> & more]]></system-out>'
        "<system-err>err line</system-err></testcase>"
        "<system-err>suite after</system-err></testsuite>"
    )

    assert parsed.cases[0].output == "<b>out</b> & more"
    assert parsed.cases[0].error_output == "err line"
    assert parsed.output == "suite before\nsuite after"
    assert parsed.properties == {"env": "staging"}


def test_it_reads_case_properties_from_value_or_text() -> None:
    case = only_case(
        '<testcase name="t"><properties><property name="a" value="1"/>'
        '<property name="b">two</property></properties></testcase>'
    )

    assert case.properties == {"a": "1", "b": "two"}


def test_it_collects_attachment_lines_from_the_output() -> None:
    case = only_case(
        '<testcase name="t"><system-out>log\n[[ATTACHMENT|/tmp/shot.png]]\n</system-out>'
        "<system-err>[[ATTACHMENT|trace.zip]]</system-err></testcase>"
    )

    assert case.attachments == ["/tmp/shot.png", "trace.zip"]


def test_it_strips_ansi_from_the_message_but_keeps_it_in_details() -> None:
    case = only_case(
        '<testcase name="t"><failure message="&#x1b;[31mexpected red&#x1b;[0m">'
        "<![CDATA[\x1b[31mstack\x1b[0m]]></failure>"
        "<system-out>\x1b[32mok\x1b[0m</system-out></testcase>"
    )

    assert case.message == "expected red"
    assert case.details == "\x1b[31mstack\x1b[0m"
    assert case.output == "\x1b[32mok\x1b[0m"


def test_it_survives_control_characters_xml_forbids() -> None:
    case = only_case(
        '<testcase name="t\x01x"><failure message="bad &#0; &#x8; &#12; byte">'
        "raw \x00\x07\x0b\x1f and &#27;[0m</failure></testcase>"
    )

    assert case.name == "t\x01x"
    # NUL, which no database text column takes, is read as the replacement character.
    assert case.message == "bad \ufffd \x08 \x0c byte"
    assert case.details == "raw \ufffd\x07\x0b\x1f and \x1b[0m"


def test_it_keeps_allowed_character_references() -> None:
    case = only_case('<testcase name="t"><failure>a&#x9;b&#10;c&#13;d&#xE9;</failure></testcase>')

    assert case.details == "a\tb\nc\rd\u00e9"


def test_it_repairs_a_forbidden_reference_cut_by_a_read_boundary() -> None:
    head = '<testsuites><testsuite name="s"><testcase name="t"><system-out>'
    padding = "x" * ((1 << 20) - len(head) - 3)
    xml = f"{head}{padding}&#x1b;[1m</system-out></testcase></testsuite></testsuites>"

    case = parse_report(xml.encode()).cases[0]

    assert case.output.endswith("x\x1b[1m")


def test_it_reads_reports_in_other_encodings() -> None:
    latin = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<testsuite name="s"><testcase name="caf\u00e9"/></testsuite>'
    ).encode("latin-1")
    utf16 = '<testsuite name="s"><testcase name="\u00fcber"/></testsuite>'.encode("utf-16")

    assert parse_report(latin).cases[0].name == "caf\u00e9"
    assert parse_report(utf16).cases[0].name == "\u00fcber"


def test_it_replaces_invalid_utf8_instead_of_refusing_the_report() -> None:
    xml = b'<testsuite name="s"><testcase name="t"><system-out>\xff\xfe</system-out></testcase>'
    case = parse_report(xml + b"</testsuite>").cases[0]

    assert case.output == "\ufffd\ufffd"


# --- keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "key"),
    [
        ('classname="pkg.Test" name="test_x"', "pkg.Test::test_x"),
        ('classname="" file="tests/a.py" name="test_x"', "S \u203a tests/a.py::test_x"),
        ('classname="" name="test_x"', "S::test_x"),
        ('classname="pkg.Test" name="test[a-1]"', "pkg.Test::test[a-1]"),
        ('classname="pkg.Test" name="TestX/sub/case"', "pkg.Test::TestX/sub/case"),
        ('classname="pkg.Test" name="a \u203a b"', "pkg.Test::a \u203a b"),
        ('classname="pkg.Test" name="  spaced \n  out\t"', "pkg.Test::spaced out"),
        ('classname="describe" name="t"', "S \u203a describe::t"),
    ],
)
def test_it_keys_tests_by_scope_and_name(attributes: str, key: str) -> None:
    suite = "pkg.Test" if "pkg.Test" in attributes else "S"
    parsed = report(f'<testsuite name="{suite}"><testcase {attributes}/></testsuite>')

    assert parsed.cases[0].key == key


def test_it_keeps_parameter_ids_distinct() -> None:
    parsed = report(
        '<testsuite name="s"><testcase classname="m" name="test[a-1]"/>'
        '<testcase classname="m" name="test[a-2]"/></testsuite>'
    )

    assert len({case.key for case in parsed.cases}) == 2


def test_it_gives_the_same_test_the_same_key_in_the_next_run() -> None:
    run_one = report(
        '<testsuite name="s" time="1"><testcase classname="m" name="t" time="1">'
        '<failure message="x"/></testcase></testsuite>'
    )
    run_two = report(
        '<testsuite name="s" time="3"><testcase classname="m" name="t" time="3"/></testsuite>'
    )

    assert run_one.cases[0].key == run_two.cases[0].key


def test_it_cuts_very_long_keys_keeping_them_distinct() -> None:
    long_a, long_b = "a" * 2000 + "x", "a" * 2000 + "y"
    parsed = report(
        f'<testsuite name="s"><testcase classname="m" name="{long_a}"/>'
        f'<testcase classname="m" name="{long_b}"/></testsuite>'
    )

    keys = [case.key for case in parsed.cases]
    assert all(len(key) == 1000 for key in keys)
    assert keys[0] != keys[1]


# --- sources ----------------------------------------------------------------------------


def test_it_accepts_bytes_paths_and_binary_files_alike(tmp_path: Path) -> None:
    data = (DATA / "pytest-fail.xml").read_bytes()
    copy = tmp_path / "copy.xml"
    copy.write_bytes(data)

    totals = {
        parse_report(data).total,
        parse_report(str(copy)).total,
        parse_report(copy).total,
        parse_report(io.BytesIO(data)).total,
    }
    with copy.open("rb") as handle:
        totals.add(parse_report(handle).total)

    assert totals == {5}


def test_it_decompresses_gzip_reports() -> None:
    data = gzip.compress((DATA / "surefire-testng-pulsar.xml").read_bytes())

    assert parse_report(data).total == 808


def test_it_refuses_a_report_over_the_size_limit_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"<testsuites>" + b" " * 3000 + b"</testsuites>")

    with pytest.raises(
        JUnitError, match=r"^The file big\.xml is 3\.0 KB, over the 2\.0 KB limit for one report"
    ):
        parse_report(path, max_bytes=2048)
    with pytest.raises(JUnitError, match=r"over the 1\.0 MB limit"):
        parse_report(b"<testsuites>" + b" " * (1 << 20) + b"</testsuites>", max_bytes=1 << 20)


def test_it_applies_the_limit_to_the_decompressed_size_of_a_gzip_bomb() -> None:
    bomb = gzip.compress(b"<testsuites>" + b" " * (20 << 20) + b"</testsuites>")
    assert len(bomb) < 100_000

    with pytest.raises(
        JUnitError, match=r"over the 5\.0 MB limit for one report \(counted after decompression\)"
    ):
        parse_report(bomb, max_bytes=5 << 20)


def test_it_refuses_a_damaged_gzip_file() -> None:
    data = gzip.compress(b"<testsuites></testsuites>" * 100)

    with pytest.raises(JUnitError, match="damaged gzip file"):
        parse_report(data[:20] + b"\x00" * 20 + data[40:])


# --- hostile and broken input ---------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuites><testsuite name="&lol4;"><testcase name="&lol4;"/></testsuite></testsuites>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="s"><testcase name="t"><failure>&secret;</failure>
</testcase></testsuite></testsuites>"""

PLAIN_DTD = """<?xml version="1.0"?>
<!-- produced by a tool -->
<!DOCTYPE testsuites SYSTEM "junit.dtd">
<testsuites><testsuite name="s"><testcase name="t"/></testsuite></testsuites>"""


@pytest.mark.parametrize(
    "xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DTD], ids=["laughs", "external", "dtd"]
)
def test_it_refuses_any_dtd_or_entity_declaration(xml: str) -> None:
    with pytest.raises(JUnitError, match="DTDs and entities are not allowed"):
        parse_report(xml.encode(), name="evil.xml")


def test_it_refuses_a_dtd_inside_a_gzip_file() -> None:
    with pytest.raises(JUnitError, match="DTDs and entities are not allowed"):
        parse_report(gzip.compress(EXTERNAL_ENTITY.encode()))


def test_it_accepts_a_doctype_mentioned_inside_test_output() -> None:
    case = only_case(
        '<testcase name="t"><system-out><![CDATA[<!DOCTYPE html><html>]]></system-out></testcase>'
    )

    assert case.output == "<!DOCTYPE html><html>"


def test_it_refuses_truncated_xml_naming_the_line() -> None:
    data = (DATA / "pytest-fail.xml").read_bytes()[:1000]

    with pytest.raises(JUnitError) as caught:
        parse_report(data, name="cut.xml")

    last_line = data.count(b"\n") + 1
    assert last_line == 15
    assert str(caught.value) == (
        f"The file cut.xml is not well-formed XML: line {last_line}: expected '>'."
    )


def test_it_refuses_mismatched_tags_naming_the_line() -> None:
    xml = b"<testsuites>\n<testsuite name='s'>\n<testcase name='t'>\n</testsuite>\n</testsuites>"

    with pytest.raises(JUnitError, match="not well-formed XML: line 4: "):
        parse_report(xml)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The report is empty."),
        (b"  \n\t ", "The report contains no XML element."),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
            "The report is a binary file, not an XML test report.",
        ),
        (
            b"tests: 5\nfailures: 1\n",
            "The report is not XML: it starts with 'tests: 5\\nfailure' instead of a tag.",
        ),
        (b'{"tests": 5}', "The report is not XML: it starts with '{\"tests\": 5}'"),
    ],
)
def test_it_refuses_input_that_is_not_xml(data: bytes, message: str) -> None:
    with pytest.raises(JUnitError) as caught:
        parse_report(data)

    assert str(caught.value).startswith(message)


def test_it_refuses_a_report_whose_root_only_wraps_suites() -> None:
    xml = b"<results><testsuite name='s'><testcase name='t'/></testsuite></results>"

    with pytest.raises(JUnitError, match="its root element is <results>"):
        parse_report(xml)


def test_it_names_the_missing_file() -> None:
    with pytest.raises(JUnitError, match=r"The file nope\.xml cannot be read"):
        parse_report("/nonexistent/nope.xml")


def test_it_accepts_an_empty_report() -> None:
    parsed = parse_report(b"<testsuites/>")

    assert (parsed.total, parsed.cases, parsed.duration) == (0, [], 0)


def test_it_reads_a_large_report_with_a_flat_tree() -> None:
    body = "".join(
        f'<testsuite name="s{s}">'
        + "".join(f'<testcase classname="c" name="t{i}" time="0.001"/>' for i in range(100))
        + "</testsuite>"
        for s in range(200)
    )

    parsed = report(body)

    assert (parsed.total, parsed.passed, len(parsed.suites)) == (20_000, 20_000, 200)
    assert round(parsed.duration, 6) == 20.0
