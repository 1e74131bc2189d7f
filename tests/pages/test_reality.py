"""Reality check: runs that took no time, suites too fast for their size, idle tests."""

from __future__ import annotations

import pytest

from runs.selectors import reality
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db


def test_it_flags_a_run_whose_tests_took_almost_no_time(suite, cases, at):
    run = make_run(
        suite,
        dict.fromkeys(cases[:3], "passed"),
        durations=dict.fromkeys(cases, 0.0001),
        at=at(0),
        duration=2.0,
    )

    flags, _ = reality.run_flags(run=run)

    assert any("took 0.30 ms in total" in f.what for f in flags)


def test_it_flags_a_run_that_finished_implausibly_fast_for_its_size(suite, cases, at):
    run = make_run(suite, dict.fromkeys(cases, "passed"), at=at(0), duration=0.002)

    flags, _ = reality.run_flags(run=run)

    assert [f.what for f in flags if not f.info] == ["The run finished 4 tests in 2.00 ms"]
    assert "implausibly fast" in flags[0].reason


def test_it_flags_tests_that_never_failed_and_never_took_a_millisecond(suite, cases, at, settings):
    settings.REALITY_MIN_RUNS = 3
    a, b, c, _ = cases
    quick = {a: 0.0002, b: 0.0002, c: 0.0002}
    make_run(suite, {a: "passed", b: "failed", c: "passed"}, durations=quick, at=at(0))
    make_run(suite, {a: "passed", b: "passed", c: "passed"}, durations={**quick, c: 0.4}, at=at(1))
    latest = make_run(suite, {a: "passed", b: "passed", c: "passed"}, durations=quick, at=at(2))

    flags, trivial = reality.suite_flags(suite=suite, latest=latest)

    assert trivial == [a]
    assert flags[-1].what == "1 test never failed and never took more than 1 ms in 3 or more runs"


def test_it_has_nothing_to_say_about_a_run_that_looks_real(suite, cases, at, settings):
    settings.REALITY_MIN_RUNS = 2
    make_run(suite, {cases[0]: "failed"}, at=at(0))
    run = make_run(suite, dict.fromkeys(cases, "passed"), at=at(1))

    assert reality.run_flags(run=run) == ([], [])
    assert reality.suite_flags(suite=suite, latest=run) == ([], [])
