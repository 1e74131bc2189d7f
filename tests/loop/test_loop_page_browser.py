"""In Chromium: the loop page follows the loop's state while it polls, without a reload.

The test plays the worker: it updates the loop, its iterations and their runs in the database,
and the page must show each state as it comes."""

from __future__ import annotations

import pytest

from runs.models import Build, Deploy, Loop, LoopIteration, Suite, TestRun
from tests.factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_MS = 10_000  # the page polls every 2 s; allow a few polls


def _loop_with_a_running_iteration() -> tuple[Loop, TestRun]:
    service = ServiceFactory(name="chat")
    suite = Suite.objects.create(service=service, name="e2e")
    build = Build.objects.create(
        service=service, image="stageloop-demo:1.4.0", commit_sha="4e1f0c2a9b7d"
    )
    loop = Loop.objects.create(service=service, suite=suite, max_iterations=3)
    deploy = Deploy.objects.create(
        service=service, build=build, image=build.image, status=Deploy.Status.SUCCEEDED
    )
    run = TestRun.objects.create(
        suite=suite,
        service=service,
        deploy=deploy,
        trigger=TestRun.Trigger.LOOP,
        status=TestRun.Status.RUNNING,
        passed=18,
        progress_done=18,
        progress_total=35,
    )
    LoopIteration.objects.create(loop=loop, number=1, build=build, deploy=deploy, run=run)
    return loop, run


def _finish(run: TestRun, *, passed: int, failed: int) -> None:
    TestRun.objects.filter(pk=run.pk).update(
        status=TestRun.Status.FAILED if failed else TestRun.Status.PASSED,
        total=passed + failed,
        passed=passed,
        failed=failed,
        progress_done=passed + failed,
        progress_total=passed + failed,
    )


def _iteration_row(page, number: int):
    return page.locator(f"#loop-progress tr[data-iteration='{number}']")


def test_a_loop_row_shows_progress_while_its_run_runs_and_the_pass_count_when_done(
    browser_login, live_server, operator, js_errors
):
    loop, run = _loop_with_a_running_iteration()
    page = browser_login(operator)
    page.goto(f"{live_server.url}/loops/{loop.pk}/")
    page.evaluate("window.__notReloaded = true")

    tests_cell = _iteration_row(page, 1).locator("td").nth(2)
    assert "18 of 35 done" in tests_cell.inner_text()
    assert "passed" not in tests_cell.inner_text()

    _finish(run, passed=34, failed=1)
    page.wait_for_function(
        "document.querySelector(\"#loop-progress tr[data-iteration='1']\")"
        ".innerText.includes('34/35 passed')",
        timeout=POLL_MS,
    )
    assert "done" not in tests_cell.inner_text()
    assert page.evaluate("window.__notReloaded") is True
    assert js_errors == []


def test_the_build_form_comes_when_the_loop_waits_and_cancel_goes_when_it_is_green(
    browser_login, live_server, operator, js_errors
):
    loop, run = _loop_with_a_running_iteration()
    page = browser_login(operator)
    page.goto(f"{live_server.url}/loops/{loop.pk}/")
    page.evaluate("window.__notReloaded = true")
    assert page.locator("#build-form").count() == 0
    assert page.get_by_role("button", name="Cancel loop").count() == 1

    # The first iteration misses the goal: the loop waits for a fixed build.
    _finish(run, passed=34, failed=1)
    LoopIteration.objects.filter(loop=loop, number=1).update(goal_met=False, note="1 failed")
    Loop.objects.filter(pk=loop.pk).update(status=Loop.Status.WAITING)
    page.wait_for_selector("#build-form", timeout=POLL_MS)
    assert page.get_by_role("button", name="Cancel loop").count() == 1

    # What the operator types survives the next polls.
    page.click("#build-form input[name=image]")
    page.keyboard.type("stageloop-demo:1.4")
    with page.expect_response(lambda r: "/progress" in r.url, timeout=POLL_MS):
        pass
    with page.expect_response(lambda r: "/progress" in r.url, timeout=POLL_MS):
        pass
    page.keyboard.type(".1")
    assert page.input_value("#build-form input[name=image]") == "stageloop-demo:1.4.1"

    # The fixed build (pushed by CI here) turns the loop green: nothing is left to cancel.
    fixed = Build.objects.create(service=loop.service, image="stageloop-demo:1.4.1")
    green = TestRun.objects.create(
        suite=loop.suite, service=loop.service, status=TestRun.Status.PASSED, total=35, passed=35
    )
    LoopIteration.objects.create(
        loop=loop, number=2, build=fixed, run=green, goal_met=True, stable=True, note="green"
    )
    Loop.objects.filter(pk=loop.pk).update(status=Loop.Status.SUCCEEDED)
    page.wait_for_function(
        "document.getElementById('loop-status').innerText === 'Green'", timeout=POLL_MS
    )
    assert page.get_by_role("button", name="Cancel loop").count() == 0
    assert page.locator("#build-form").count() == 0
    assert page.evaluate("window.__notReloaded") is True
    assert js_errors == []
