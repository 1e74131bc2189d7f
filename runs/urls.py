from django.urls import include, path

from runs.views import (
    deploys,
    loops,
    release,
    retention,
    rollback,
    states,
    tokens,
    triage,
    uploads,
)

urlpatterns = [
    path("services/<slug:name>/deploy", deploys.deploy_and_test, name="deploy-and-test"),
    path("deploys/<int:pk>/", deploys.deploy_detail, name="deploy-detail"),
    path("revisions/<int:pk>/rollback", rollback.revision_rollback, name="revision-rollback"),
    path("revisions/<int:pk>/promote", release.revision_promote, name="revision-promote"),
    path("deploys/<int:pk>/abort", release.deploy_abort, name="deploy-abort"),
    path("deploys/<int:pk>/progress", deploys.deploy_progress, name="deploy-progress"),
    path("loops/<int:pk>/", loops.loop_detail, name="loop-detail"),
    path("loops/<int:pk>/progress", loops.loop_progress, name="loop-progress"),
    path("loops/<int:pk>/cancel", loops.loop_cancel_view, name="loop-cancel"),
    path("services/<slug:name>/loop", loops.loop_create, name="loop-create"),
    path("services/<slug:name>/builds", loops.build_create, name="build-create"),
    path("runs/<int:pk>/cancel", loops.run_cancel_view, name="run-cancel"),
    path("suites/<int:pk>/upload", uploads.suite_upload, name="suite-upload"),
    path("tests/<int:pk>/state", states.test_state_change, name="test-state-change"),
    path("signatures/<int:pk>/triage", triage.signature_triage, name="signature-triage"),
    path("suites/<int:pk>/retention", retention.suite_retention, name="suite-retention"),
    path("runs/<int:pk>/pin", retention.run_pin, name="run-pin"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke", tokens.token_revoke_view, name="token-revoke"),
    path("", include("runs.urls_pages")),
    path("", include("health.urls")),
    path("reports/", include("reports.urls")),
]
