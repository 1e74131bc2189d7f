"""The reality check judges a test only on enough history, and says why it flags each one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from runs.selectors import reality
from tests.factories import CaseFactory
from tests.pages.conftest import make_run

pytestmark = pytest.mark.django_db

QUICK = 0.0002  # passes in a fifth of a millisecond


@pytest.fixture(autouse=True)
def _five_runs(settings):
    settings.REALITY_MIN_RUNS = 5


def _runs(suite, cases, at, n, *, failing_once=None):
    """`n` green runs where cases[0] and cases[1] always take no time; cases[1] fails once."""
    made = []
    for i in range(n):
        outcomes = dict.fromkeys(cases, "passed")
        if failing_once is not None and i == 0:
            outcomes[failing_once] = "failed"
        made.append(
            make_run(
                suite, outcomes, durations={cases[0]: QUICK, cases[1]: QUICK}, at=at(i), duration=3
            )
        )
    return made


def test_a_first_import_flags_no_test_and_says_there_is_not_enough_history(
    suite, cases, at, viewer, login
):
    (run,) = _runs(suite, cases, at, 1)

    flags, trivial = reality.run_flags(run=run)
    run_page = login(viewer).get(reverse("run-detail", args=[run.pk])).content.decode()
    suite_page = login(viewer).get(reverse("suite-detail", args=[suite.pk])).content.decode()

    assert trivial == []
    assert "never took more than" not in " ".join(f.what for f in flags)
    for page in (run_page, suite_page):
        assert "not enough history (1 of 5 runs)" in page
        assert "trivial-tests" not in page


def test_four_runs_are_still_not_enough(suite, cases, at):
    runs = _runs(suite, cases, at, 4)

    flags, trivial = reality.suite_flags(suite=suite, latest=runs[-1])

    assert trivial == []
    assert any("not enough history (4 of 5 runs)" in f.what for f in flags)


def test_with_enough_runs_it_flags_the_idle_test_and_says_why(suite, cases, at, viewer, login):
    runs = _runs(suite, cases, at, 5, failing_once=cases[1])

    flags, trivial = reality.run_flags(run=runs[-1])
    page = login(viewer).get(reverse("run-detail", args=[runs[-1].pk])).content.decode()

    assert trivial == [cases[0]]  # cases[1] failed once: it does reach something
    assert "1 test never failed and never took more than 1 ms in 5 or more runs" in [
        f.what for f in flags
    ]
    why = trivial[0].reality_reason
    assert why == "passed in all 5 of its runs, never failed, longest 0.20 ms"
    assert why in page
    assert "not enough history" not in page


def test_a_test_new_in_an_old_suite_waits_for_its_own_history(suite, cases, at):
    runs = _runs(suite, cases, at, 5)
    newcomer = CaseFactory(suite=suite, key="tests/test_a.py::test_new")
    latest = make_run(
        suite,
        {**dict.fromkeys(cases, "passed"), newcomer: "passed"},
        durations={cases[0]: QUICK, cases[1]: QUICK, newcomer: QUICK},
        at=at(len(runs)),
        duration=3,
    )

    flags, trivial = reality.run_flags(run=latest)

    assert newcomer not in trivial
    assert set(trivial) == {cases[0], cases[1]}
    assert any("1 test that looks idle has fewer than 5 runs" in f.what for f in flags)


def test_skipped_runs_do_not_count_as_history(suite, cases, at):
    for i in range(4):
        make_run(
            suite,
            {**dict.fromkeys(cases, "passed"), cases[0]: "skipped"},
            durations={cases[0]: 0.0, cases[1]: QUICK},
            at=at(i),
            duration=3,
        )
    latest = make_run(
        suite,
        dict.fromkeys(cases, "passed"),
        durations={cases[0]: QUICK, cases[1]: QUICK},
        at=at(4),
        duration=3,
    )

    flags, trivial = reality.run_flags(run=latest)

    assert trivial == [cases[1]]  # cases[0] passed once; its four skips prove nothing
    assert trivial[0].reality_reason.startswith("passed in all 5 of its runs")
    assert any("1 test that looks idle has fewer than 5 runs" in f.what for f in flags)
