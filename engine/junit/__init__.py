"""The one JUnit XML parser every import door uses; pure Python, no Django.

``parse_report`` turns a report (path, bytes, file object; plain or gzip) into a
:class:`ParsedReport` with one :class:`ParsedCase` per test, or raises :class:`JUnitError`
with a sentence a user can act on.
"""

from engine.junit.model import ERROR, FAILED, PASSED, SKIPPED, JUnitError, ParsedCase, ParsedReport
from engine.junit.parser import (
    DEFAULT_MAX_BYTES,
    ReportCases,
    case_key,
    key_suite,
    merge_rerun,
    numbered_key,
    parse_report,
)
from engine.junit.values import strip_ansi

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ERROR",
    "FAILED",
    "PASSED",
    "SKIPPED",
    "JUnitError",
    "ParsedCase",
    "ParsedReport",
    "ReportCases",
    "case_key",
    "key_suite",
    "merge_rerun",
    "numbered_key",
    "parse_report",
    "strip_ansi",
]
