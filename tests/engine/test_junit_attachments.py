"""The parser's attachment conventions, the system-out/err split and each attempt of a rerun."""

from __future__ import annotations

from engine.junit import parse_report
from engine.junit.parser import is_attachment_property
from tests.engine.test_junit import DATA, only_case, report


def test_it_reads_attachment_markers_from_system_out_and_err_as_playwright_writes_them() -> None:
    case = only_case(
        '<testcase name="t"><failure message="boom">trace</failure>'
        "<system-out>\nlog line\n[[ATTACHMENT|test-results/t/test-failed-1.png]]\n</system-out>"
        '<system-err>[[ATTACHMENT|trace.zip|{"type": "application/zip"}]]</system-err>'
        "</testcase>"
    )

    assert case.attachments == ["test-results/t/test-failed-1.png", "trace.zip"]
    assert "log line" in case.output and "trace.zip" not in case.output
    assert "trace.zip" in case.error_output


def test_it_reads_attachment_properties_in_their_common_spellings() -> None:
    case = only_case(
        '<testcase name="t"><properties>'
        '<property name="attachment" value="shots/a.png"/>'
        '<property name="attachment" value="shots/b.png"/>'
        '<property name="attachment_1" value="pp1.jpg"/>'
        '<property name="attachment:video" value="video.webm"/>'
        '<property name="owner" value="team-a"/>'
        "</properties></testcase>"
    )

    assert case.attachments == ["shots/a.png", "shots/b.png", "pp1.jpg", "video.webm"]
    assert case.properties["owner"] == "team-a"


def test_only_attachment_names_count_as_attachment_properties() -> None:
    assert [is_attachment_property(n) for n in ("Attachment", "attachments", "attachment_2")] == [
        True,
        True,
        True,
    ]
    assert [is_attachment_property(n) for n in ("attachmentx", "my_attachment", "env")] == [
        False,
        False,
        False,
    ]


def test_it_keeps_each_attempt_of_a_surefire_flaky_test_in_order() -> None:
    case = parse_report(DATA / "surefire-flaky.xml").cases[0]

    assert [a["outcome"] for a in case.attempt_log] == ["failed", "passed"]
    first = case.attempt_log[0]
    assert first["message"] == "Expected: <false>"
    assert "MicrosoftTeamsCrudTest.java:58" in first["details"]
    assert first["error_output"] == "Some error output here"
    assert case.attempts == len(case.attempt_log) == 2


def test_it_keeps_each_attempt_of_a_surefire_rerun_failure() -> None:
    case = only_case(
        '<testcase name="t" time="3"><failure message="first">trace one</failure>'
        "<system-out>first try</system-out>"
        '<rerunFailure message="second" time="1.5"><stackTrace>trace two</stackTrace>'
        "<system-out>second try</system-out></rerunFailure></testcase>"
    )

    assert case.outcome == "failed" and case.attempts == 2
    assert [(a["outcome"], a["message"], a["output"]) for a in case.attempt_log] == [
        ("failed", "first", "first try"),
        ("failed", "second", "second try"),
    ]
    assert case.attempt_log[1]["duration"] == 1.5


def test_it_keeps_each_attempt_of_a_repeated_testcase_rerun() -> None:
    parsed = report(
        '<testsuite name="s">'
        '<testcase classname="c" name="t" time="1"><failure message="flaked">tb</failure>'
        "<system-out>try one</system-out></testcase>"
        '<testcase classname="c" name="t" time="2"><system-out>try two</system-out></testcase>'
        "</testsuite>"
    )
    case = parsed.cases[0]

    assert (case.outcome, case.flaky, case.attempts) == ("passed", True, 2)
    assert [(a["outcome"], a["duration"], a["output"]) for a in case.attempt_log] == [
        ("failed", 1.0, "try one"),
        ("passed", 2.0, "try two"),
    ]


def test_a_test_that_ran_once_has_no_attempt_log() -> None:
    assert only_case('<testcase name="t"><failure message="x"/></testcase>').attempt_log == []
