"""Reports that used to crash the parser: each is refused with a JUnitError naming the file,
or read sanely (issue 13)."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import pytest

from engine.junit import JUnitError, parse_report, values
from engine.junit.values import parse_seconds, parse_timestamp

BODY = '<testsuite name="s"><testcase name="caf\u00e9" time="1"/></testsuite>'
NOT_TEXT = ["base64", "zlib", "hex", "bz2", "uu", "rot13", "quopri"]
NOT_DOCUMENT = ["idna", "punycode", "undefined", "unicode_escape", "raw_unicode_escape"]


def declared(encoding: str, body: str = BODY) -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{body}'.encode()


def parse(data: bytes):
    return parse_report(data, name="report.xml")


@pytest.mark.parametrize("encoding", NOT_TEXT + NOT_DOCUMENT)
def test_it_refuses_an_encoding_that_is_not_a_text_encoding(encoding: str) -> None:
    with pytest.raises(JUnitError) as refused:
        parse(declared(encoding))

    assert str(refused.value) == (
        f"The file report.xml declares the encoding {encoding!r}, which is not a text "
        "encoding; write the report in UTF-8."
    )


@pytest.mark.parametrize("encoding", ["utf-32", "UTF-16", "utf-32-be", "cp037"])
def test_it_refuses_a_declared_encoding_the_bytes_are_not_written_in(encoding: str) -> None:
    with pytest.raises(JUnitError, match=r"^The file report\.xml declares the encoding") as refused:
        parse(declared(encoding))

    assert "but is not written in it" in str(refused.value)


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("declaration", [True, False])
def test_it_reads_utf32_and_utf16_with_or_without_a_byte_order_mark(
    codec: str, declaration: bool
) -> None:
    name = codec.upper().replace("-LE", "").replace("-BE", "")
    text = f'<?xml version="1.0" encoding="{name}"?>\n{BODY}' if declaration else BODY
    data = text.encode(codec)  # utf-32 writes a BOM, the -le/-be codecs do not

    parsed = parse(data)

    assert [case.name for case in parsed.cases] == ["caf\u00e9"]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE])
def test_a_utf32_bom_is_not_mistaken_for_utf16(bom: bytes) -> None:
    codec = "utf-32-le" if bom == codecs.BOM_UTF32_LE else "utf-32-be"

    parsed = parse(bom + BODY.encode(codec))

    assert parsed.cases[0].name == "caf\u00e9"


@pytest.mark.parametrize("value", ["1e300", "1e400", "1e15", "31622401", "1E+300"])
def test_it_refuses_a_time_that_is_not_a_duration_in_seconds(value: str) -> None:
    with pytest.raises(JUnitError) as refused:
        parse(
            declared(
                "UTF-8", f'<testsuite name="s"><testcase name="t" time="{value}"/></testsuite>'
            )
        )

    assert str(refused.value) == (
        f"The file report.xml gives case s::t the time {value!r}, which is not a duration in "
        "seconds (at most 31,622,400, a year); fix the reporter or remove the attribute."
    )


@pytest.mark.parametrize(
    ("xml", "where"),
    [
        ('<testsuites time="1e300"><testsuite name="s"/></testsuites>', "the report"),
        ('<testsuite name="s" time="1e300"><testcase name="t"/></testsuite>', "suite s"),
    ],
)
def test_it_refuses_a_suite_or_report_time_that_is_not_a_duration(xml: str, where: str) -> None:
    with pytest.raises(JUnitError, match=f"gives {where} the time '1e300', which is not a"):
        parse(declared("UTF-8", xml))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("inf", "unreadable time 'inf' recorded as 0"),
        ("-inf", "unreadable time '-inf' recorded as 0"),
        ("nan", "unreadable time 'nan' recorded as 0"),
        ("-1", "negative time -1 recorded as 0"),
    ],
)
def test_placeholder_times_are_recorded_as_0_with_a_warning(value: str, problem: str) -> None:
    parsed = parse(
        declared(
            "UTF-8",
            f'<testsuite name="s" time="{value}"><testcase name="t" time="{value}"/></testsuite>',
        )
    )

    assert (parsed.cases[0].duration, parsed.duration) == (0.0, 0.0)
    assert parsed.warnings == [f"case s::t: {problem}"]


def test_parse_seconds_refuses_a_value_out_of_range() -> None:
    assert parse_seconds("31622400") == (31622400.0, None)
    with pytest.raises(values.ValueOutOfRange):
        parse_seconds("1e300")


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59",
        "2101-01-01T00:00:00Z",
        "Fri, 31 Dec 9999 23:59:59 -1400",
    ],
)
def test_it_refuses_a_timestamp_out_of_range(value: str) -> None:
    with pytest.raises(JUnitError) as refused:
        parse(
            declared(
                "UTF-8", f'<testsuite name="s" timestamp="{value}"><testcase name="t"/></testsuite>'
            )
        )

    assert str(refused.value) == (
        f"The file report.xml gives suite s the timestamp {value!r}, which is out of range "
        "(years 1971 to 2100); fix the reporter or remove the attribute."
    )


def test_parse_timestamp_keeps_the_last_moment_in_range() -> None:
    assert parse_timestamp("2100-12-31T23:59:59Z") == (
        datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC),
        None,
    )
    with pytest.raises(values.ValueOutOfRange):
        parse_timestamp("2100-12-31T23:59:59-14:00")


@pytest.mark.parametrize(
    "nul",
    ["\x00", "&#0;", "&#x0;", "&#x00;", "&#000;"],
    ids=["raw", "decimal", "hex", "hex-padded", "decimal-padded"],
)
def test_a_nul_character_is_read_as_the_replacement_character(nul: str) -> None:
    parsed = parse(
        declared(
            "UTF-8",
            f'<testsuite name="s{nul}">'
            f'<properties><property name="p" value="a{nul}b"/></properties>'
            f"<system-out>suite{nul}</system-out>"
            f'<testcase classname="c{nul}" name="t{nul}" file="f{nul}">'
            f'<failure message="m{nul}">d{nul}</failure><system-out>o{nul}</system-out>'
            "</testcase></testsuite>",
        )
    )

    case = parsed.cases[0]
    texts = [case.key, case.suite, case.classname, case.name, case.file, case.message]
    texts += [case.details, case.output, parsed.output, *parsed.properties.values()]
    texts += parsed.suites
    assert not [text for text in texts if "\x00" in text or "\ue000" in text]
    assert (case.name, case.message, case.details, case.output) == (
        "t\ufffd",
        "m\ufffd",
        "d\ufffd",
        "o\ufffd",
    )
    assert parsed.output == "suite\ufffd"


def test_warnings_name_a_case_as_its_key_reads() -> None:
    parsed = parse(declared("UTF-8", '<testsuite name="s"><testcase name="t&#1;"/></testsuite>'))

    assert parsed.warnings == ["case s::t\x01: missing time recorded as 0"]
