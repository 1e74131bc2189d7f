"""Read-only pages: service, suite, test and revision. Thin: parse input, call selectors, render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from runs import charts, page_cache
from runs.health_seam import revision_health, service_health_states
from runs.models import Revision, Service, State, Suite, TestCase
from runs.params import shown
from runs.selectors import (
    cases,
    flaky,
    owners,
    reality,
    results,
    retention,
    revisions,
    schedules,
    states,
    suite_tree,
    suites,
)
from runs.selectors.compare import latest_runs_of, run_counts
from runs.selectors.compare_picker import compare_picker
from runs.selectors.gates import promote_needs_reason, revision_release_verdicts
from runs.selectors.rates import RATE_DEFINITION
from runs.selectors.rollback import active_deploy, rollback_refusal
from runs.time_range import TimeRange, request_time_range, within
from runs.views.paging import BadInput, bad_request, paginate, query_without

RUNS_PER_PAGE = 25


def service_detail(request: HttpRequest, name: str) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("current_revision"), name=name)
    span = request_time_range(request)
    return render(
        request,
        "runs/service_detail.html",
        {
            "service": service,
            "suites": service.suites.all(),
            "revisions": within(service.revisions.all(), span)[:20],
            "runs": within(service.runs.select_related("suite", "revision"), span)[:20],
            "deploys": within(service.deploys.select_related("revision"), span)[:10],
            "active": service.deploys.filter(status__in=("queued", "running")).first(),
            "health": service_health_states([service.pk]).get(service.pk),
            "loops": within(service.loops.select_related("suite"), span)[:10],
            "builds": within(service.builds.all(), span)[:10],
            "release_choices": Service.ReleasePolicy.choices,
            "incidents": within(
                service.incidents.select_related("revision", "probe"), span, field="opened_at"
            )[:10],
            "picker": compare_picker(service_id=service.pk),
        },
    )


def _tree_view(request: HttpRequest) -> str:
    view = request.GET.get("tree", "") or "suites"
    if view not in suite_tree.VIEWS:
        raise BadInput(
            f"{shown(view)} is not a view of the suite tree; use tree=suites (by file) "
            "or tree=packages (by classname).",
            name="tree",
        )
    return view


def suite_detail(request: HttpRequest, pk: int) -> HttpResponse:
    suite = get_object_or_404(Suite.objects.select_related("service"), pk=pk)
    span = request_time_range(request)
    try:
        tree_view = _tree_view(request)
        runs_page = paginate(
            request,
            within(suite.runs.select_related("suite", "revision"), span).order_by(
                "-created_at", "-pk"
            ),
            per_page=RUNS_PER_PAGE,
        )
    except BadInput as exc:
        return bad_request(request, str(exc))
    latest = suites.latest_run(suite=suite)
    # Successful deploys are read each time (one small query) and key the cached charts: a deploy
    # marks the chart at once, whether or not it brought a run (which bumps the generation).
    markers = suites.deploy_markers(suite=suite, since=span.start, until=span.end)
    cached = page_cache.fragment(
        "suite-charts",
        suite.pk,
        span,
        [m["pk"] for m in markers],
        service_id=suite.service_id,
        build=lambda: _suite_charts(suite=suite, span=span, markers=markers),
    )
    mine = request.GET.get("mine") == "1"
    flaky_cases, flaky_total = flaky.flaky_cases(suite_id=suite.pk, limit=500 if mine else 20)
    flaky_owners = owners.case_owners(suite_id=suite.pk, case_ids=[f.case_id for f in flaky_cases])
    if mine:
        teams = owners.user_team_ids(request.user)
        flaky_cases = [
            f
            for f in flaky_cases
            if owners.is_owner(flaky_owners.get(f.case_id), user_id=request.user.pk, team_ids=teams)
        ]
    flags, trivial = reality.suite_flags(suite=suite, latest=latest)
    return render(
        request,
        "runs/suite_detail.html",
        {
            "suite": suite,
            "latest": latest,
            "size": suites.size_against_target(suite=suite, latest=latest),
            **cached,
            "flaky_cases": flaky_cases,
            "flaky_total": flaky_total,
            "flaky_owners": flaky_owners,
            "mine": mine,
            "held_states": states.suite_states(suite=suite),
            "quarantine_policy": states.quarantine_policy_for(suite_id=suite.pk),
            "retention": retention.policy_for(suite_id=suite.pk),
            "schedule_skips": schedules.schedule_skips(suite=suite),
            "retention_kept_always": retention.KEPT_ALWAYS,
            "flags": flags,
            "trivial": trivial,
            "runs_page": runs_page,
            "runs": runs_page.object_list,
            "page_query": query_without(request, "page"),
            "recent_runs": suites.RECENT_RUNS,
            "flaky_definition": flaky.FLAKY_DEFINITION.format(n=settings.FLAKY_WINDOW),
            "rate_definition": RATE_DEFINITION,
            "tree": suite_tree.suite_tree(suite_id=suite.pk, view=tree_view),
            "tree_query": query_without(request, "tree", "page"),
        },
    )


def _suite_charts(*, suite: Suite, span: TimeRange, markers: list) -> dict:
    """The suite page's charts and the tables beside them: what runs and results show."""
    series = suites.run_series(runs=suites.finished_runs(suite=suite, span=span))
    per_revision = suites.revision_rates(suite=suite, span=span)
    return {
        "series": series,
        "rate_chart": charts.figure_json(
            charts.pass_rate_over_time(
                series.points,
                bucket=series.bucket,
                deploys=markers,
                x_range=(span.start, span.end),
            )
        ),
        "revision_chart": charts.figure_json(charts.pass_rate_per_revision(per_revision)),
        "duration_chart": charts.figure_json(
            charts.run_durations(
                series.points, bucket=series.bucket, x_range=(span.start, span.end)
            )
        ),
        **suites.recent_tables(suite=suite, span=span),
    }


def suite_tree_branch(request: HttpRequest, pk: int) -> HttpResponse:
    """The children of one branch of the suite tree, for the page to load when it is opened."""
    suite = get_object_or_404(Suite, pk=pk)
    try:
        view = _tree_view(request)
        found = suite_tree.suite_tree_branch(
            suite_id=suite.pk, view=view, path=request.GET.getlist("path")
        )
        if found is None:
            raise BadInput(
                "That branch is not in the tree of this suite (any more); reload the suite page.",
                name="path",
            )
    except BadInput as exc:
        return bad_request(request, str(exc))
    tree, node = found
    return render(
        request, "runs/_suite_tree_children.html", {"suite": suite, "tree": tree, "node": node}
    )


def test_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(TestCase.objects.select_related("suite__service"), pk=pk)
    raw_run = request.GET.get("run", "")
    if raw_run and not (raw_run.isascii() and raw_run.isdigit() and len(raw_run) < 19):
        return bad_request(request, f"run must be a run's number, not {raw_run[:40]!r}.")
    result = results.case_result(case=case, run_id=int(raw_run) if raw_run else None)
    if raw_run and result is None:
        return bad_request(request, f"This test has no result in run #{raw_run}.")
    span = request_time_range(request)
    cached = page_cache.fragment(
        "test-history",
        case.pk,
        span,
        service_id=case.suite.service_id,
        build=lambda: _test_history(case=case, span=span),
    )
    return render(
        request,
        "runs/test_detail.html",
        {
            "case": case,
            **cached,
            "flakiness": flaky.case_flakiness(case_id=case.pk),
            "broken": cases.broken_since(case=case),
            "analyses": cases.case_analyses(case=case),
            "flaky_definition": flaky.FLAKY_DEFINITION.format(n=settings.FLAKY_WINDOW),
            "owner": owners.case_owner(case=case),
            "test_state": states.case_state(case=case),
            "state_history": states.state_history(case_id=case.pk),
            "states": State.choices,
            "result": result,
            "attachments": results.result_attachments(result=result) if result else [],
        },
    )


def _test_history(*, case: TestCase, span: TimeRange) -> dict:
    """The test page's history strip and duration chart: what its results show."""
    history = cases.case_history(case=case, span=span)
    return {
        "strip": history[-cases.STRIP_LENGTH :],
        "latest": history[-1] if history else None,
        "history_count": len(history),
        "duration_chart": charts.figure_json(
            charts.case_durations(history, x_range=(span.start, span.end))
        ),
    }


def revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    revision = get_object_or_404(
        Revision.objects.select_related("service__current_revision"), pk=pk
    )
    span = request_time_range(request)
    try:
        runs_page = paginate(
            request,
            within(revisions.revision_runs(revision=revision), span),
            per_page=RUNS_PER_PAGE,
        )
    except BadInput as exc:
        return bad_request(request, str(exc))
    previous = revisions.previous_revision(revision=revision)
    refusal = rollback_refusal(service=revision.service, to_revision=revision)
    may_roll_back = not refusal and request.user.has_perm("runs.trigger_deploy")
    verdict, canary_verdicts = revision_release_verdicts(revision=revision)
    current = revision.service.current_revision
    # A revision newer than the one serving is promoted (an override when its gate did not
    # pass); an older one is rolled back to.
    newer = may_roll_back and (current is None or revision.created_at > current.created_at)
    changes, change_counts = None, None
    if previous is not None:
        diff = revisions.revision_diff(revision=revision, previous=previous)
        change_counts = diff.counts()
        changes = list(diff.changes.exclude(change="other change")[:50])
    return render(
        request,
        "runs/revision_detail.html",
        {
            "revision": revision,
            "deploy": revisions.revision_deploy(revision=revision),
            "counts": run_counts(latest_runs_of(revision=revision)),
            "runs_page": runs_page,
            "runs": runs_page.object_list,
            "page_query": query_without(request, "page"),
            "previous": previous,
            "changes": changes,
            "change_counts": change_counts,
            "rate_definition": RATE_DEFINITION,
            "health": revision_health(revision),
            "incidents": within(
                revision.incidents.select_related("probe"), span, field="opened_at"
            )[:20],
            "may_roll_back": may_roll_back,
            "active_deploy": active_deploy(service=revision.service) if may_roll_back else None,
            "verdict": verdict,
            "canary_verdicts": canary_verdicts,
            "may_promote": newer,
            "promote_override": promote_needs_reason(revision=revision) if newer else "",
        },
    )
