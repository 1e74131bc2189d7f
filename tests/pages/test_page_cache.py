"""The page cache: a page's charts and tables come from the cache until a run changes them.

Rows changed behind the services' back (a queryset update, which bumps nothing) show whether a
fragment came from the cache; a run recorded through the real import service must show at once.
Runs on the local-memory cache (SQLite mode) and on Redis (PostgreSQL mode, tests/settings.py).
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from runs import page_cache
from runs.lifecycle.runs import run_lifecycle
from runs.models import TestCase, TestResult, TestRun
from runs.services.ingest import ReportFile, run_import
from tests.factories import RunFactory, SuiteFactory


def _report(**durations: float) -> ReportFile:
    cases = "".join(
        f'<testcase classname="tests.test_cache" name="{name}" time="{seconds}"/>'
        for name, seconds in durations.items()
    )
    return ReportFile(
        name="report.xml",
        data=f'<testsuite name="cache" tests="{len(durations)}">{cases}</testsuite>'.encode(),
    )


def _import(suite, capture, **durations: float) -> TestRun:
    """A run recorded by the real import service, its transaction committed (so its
    on-commit generation bump runs, as in production)."""
    with capture(execute=True):
        return run_import(suite=suite, files=[_report(**durations)]).run


def _slowest_table(html: str) -> str:
    found = re.search(r'<table class="slowest-tests">.*?</table>', html, re.S)
    assert found, "the suite page has no slowest-tests table"
    return found.group(0)


@pytest.fixture
def suite(db):
    return SuiteFactory()


def test_the_cache_backend_is_the_one_the_mode_configures(settings):
    expected = RedisCache if settings.CELERY_BROKER_URL.startswith("redis") else LocMemCache
    assert isinstance(caches["default"], expected)


def test_the_suite_charts_come_from_the_cache_on_the_second_request(
    suite, login, viewer, django_capture_on_commit_callbacks
):
    _import(suite, django_capture_on_commit_callbacks, test_slow_alpha=9.5, test_quick=0.1)
    client = login(viewer)
    first = client.get(f"/suites/{suite.pk}/").content.decode()
    assert "test_slow_alpha" in _slowest_table(first)

    TestCase.objects.filter(name="test_slow_alpha").update(name="test_renamed_behind")
    second = client.get(f"/suites/{suite.pk}/").content.decode()

    assert "test_slow_alpha" in _slowest_table(second)
    assert "test_renamed_behind" not in _slowest_table(second)


def test_a_new_run_shows_on_the_suite_page_at_once(
    suite, login, viewer, django_capture_on_commit_callbacks
):
    _import(suite, django_capture_on_commit_callbacks, test_slow_alpha=9.5)
    client = login(viewer)
    assert "test_slow_beta" not in _slowest_table(
        client.get(f"/suites/{suite.pk}/").content.decode()
    )

    _import(suite, django_capture_on_commit_callbacks, test_slow_alpha=9.5, test_slow_beta=30)
    after = client.get(f"/suites/{suite.pk}/").content.decode()

    assert "test_slow_beta" in _slowest_table(after)


def test_a_new_failing_run_shows_on_the_test_page_at_once(
    suite, login, viewer, django_capture_on_commit_callbacks
):
    _import(suite, django_capture_on_commit_callbacks, test_flip=0.2)
    case = TestCase.objects.get(suite=suite, name="test_flip")
    client = login(viewer)
    assert 'class="badge passed"' in client.get(f"/tests/{case.pk}/").content.decode()
    # Changed behind the services' back: the cached history still says passed.
    TestResult.objects.filter(case=case).update(outcome="failed")
    assert 'class="badge passed"' in client.get(f"/tests/{case.pk}/").content.decode()

    failing = ReportFile(
        name="report.xml",
        data=b'<testsuite name="cache" tests="1"><testcase classname="tests.test_cache" '
        b'name="test_flip" time="0.3"><failure message="boom">boom</failure></testcase>'
        b"</testsuite>",
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = run_import(suite=suite, files=[failing]).run
    page = client.get(f"/tests/{case.pk}/").content.decode()

    assert 'class="badge failed"' in page
    assert f"/runs/{run.pk}/" in page


def test_with_the_page_cache_off_every_request_reads_the_rows(
    suite, login, viewer, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False
    _import(suite, django_capture_on_commit_callbacks, test_slow_alpha=9.5)
    client = login(viewer)
    client.get(f"/suites/{suite.pk}/")

    TestCase.objects.filter(name="test_slow_alpha").update(name="test_renamed_behind")
    page = client.get(f"/suites/{suite.pk}/").content.decode()

    assert "test_renamed_behind" in _slowest_table(page)


def test_ending_a_run_bumps_its_services_generation_and_no_others(
    db, django_capture_on_commit_callbacks
):
    running = RunFactory(status=TestRun.Status.RUNNING)
    other = SuiteFactory()
    mine = page_cache.generation(service_id=running.service_id)
    theirs = page_cache.generation(service_id=other.service_id)
    overall = page_cache.generation()

    with django_capture_on_commit_callbacks(execute=True):
        run_lifecycle.move(running, TestRun.Status.PASSED, frm=[TestRun.Status.RUNNING])

    assert page_cache.generation(service_id=running.service_id) != mine
    assert page_cache.generation() != overall
    assert page_cache.generation(service_id=other.service_id) == theirs


def test_a_rolled_back_import_bumps_nothing(suite, django_capture_on_commit_callbacks):
    before = page_cache.generation(service_id=suite.service_id)
    bad = ReportFile(name="report.xml", data=b"<testsuite><testcase name=")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Exception):
        run_import(suite=suite, files=[bad])

    assert callbacks == []
    assert page_cache.generation(service_id=suite.service_id) == before
