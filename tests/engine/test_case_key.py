"""case_key gives the key the parser gives; key_suite reads back the <testsuite> name in one."""

from __future__ import annotations

import pytest

from engine.junit import case_key, key_suite, parse_report
from tests.junit_reports import JUNIT


@pytest.mark.parametrize("report", ["pytest-fail.xml", "pytest-xunit2.xml", "mocha.xml"])
def test_case_key_is_the_key_the_parser_gives_each_case_of_a_real_report(report):
    parsed = parse_report(JUNIT / report)

    for case in parsed.cases:
        if case.key.endswith(tuple(f" #{n}" for n in range(2, 10))):
            continue  # a same-titled test numbered in document order: only the parser knows
        assert (
            case_key(classname=case.classname, name=case.name, file=case.file, suite=case.suite)
            == case.key
        )


def test_key_suite_reads_the_suite_name_back_from_a_pytest_key():
    key = case_key(classname="tests.test_checkout", name="test_pay", suite="pytest")

    assert key == "pytest \u203a tests.test_checkout::test_pay"
    assert key_suite(key=key, classname="tests.test_checkout", name="test_pay") == "pytest"


def test_key_suite_is_empty_for_a_key_without_one_and_none_when_it_cannot_tell():
    plain = case_key(classname="tests.test_checkout", name="test_pay")

    assert key_suite(key=plain, classname="tests.test_checkout", name="test_pay") == ""
    assert key_suite(key=f"{plain} #2", classname="tests.test_checkout", name="test_pay") is None
    assert key_suite(key="f.py::test_pay", classname="", name="test_pay") is None
