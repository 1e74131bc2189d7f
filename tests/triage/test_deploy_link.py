"""The deploy page links to the analyses its failing run drafted, and waits for them a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analyses.models import Analysis
from runs.models import Deploy, TestRun
from tests.factories import ServiceFactory, SuiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deploy_run(db):
    suite = SuiteFactory(service=ServiceFactory(name="web"), name="e2e")
    deploy = Deploy.objects.create(service=suite.service, status="succeeded")
    run = TestRun.objects.create(
        suite=suite,
        service=suite.service,
        deploy=deploy,
        status="failed",
        total=2,
        passed=1,
        failed=1,
        finished_at=timezone.now(),
    )
    return deploy, run


def test_the_deploy_page_links_to_the_analysis_its_run_drafted(login, viewer, deploy_run):
    deploy, run = deploy_run
    TestRun.objects.filter(pk=run.pk).update(analyzed_at=timezone.now())
    analysis = Analysis.objects.create(
        service=deploy.service, run=run, title="test_chat fails: socket closed", problem="-"
    )

    page = login(viewer).get(deploy.get_absolute_url()).content.decode()

    assert f'href="/analyses/{analysis.pk}/" class="deploy-analysis">#{analysis.pk} test_chat' in (
        page
    )
    assert "drafted from this run" in page
    assert 'hx-trigger="every 1s"' not in page  # analyzed and finished: nothing left to wait for


def test_while_the_analyze_step_has_not_run_the_page_waits_for_it(login, viewer, deploy_run):
    deploy, _run = deploy_run

    page = login(viewer).get(deploy.get_absolute_url()).content.decode()

    assert "Drafting analyses of its failures" in page
    assert 'hx-trigger="every 1s"' in page


def test_after_a_few_minutes_without_analyses_it_stops_waiting(login, viewer, deploy_run):
    deploy, run = deploy_run
    TestRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(minutes=6))

    page = login(viewer).get(deploy.get_absolute_url()).content.decode()

    assert "Drafting analyses" not in page
    assert 'hx-trigger="every 1s"' not in page
