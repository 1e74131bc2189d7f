from django.urls import path

from runs.views import deploys, pages

urlpatterns = [
    path("services/<slug:name>/", pages.service_detail, name="service-detail"),
    path("services/<slug:name>/deploy", deploys.deploy_and_test, name="deploy-and-test"),
    path("deploys/<int:pk>/", deploys.deploy_detail, name="deploy-detail"),
    path("deploys/<int:pk>/progress", deploys.deploy_progress, name="deploy-progress"),
    path("revisions/<int:pk>/", pages.revision_detail, name="revision-detail"),
    path("suites/<int:pk>/", pages.suite_detail, name="suite-detail"),
    path("runs/<int:pk>/", pages.run_detail, name="run-detail"),
    path("tests/<int:pk>/", pages.test_detail, name="test-detail"),
    path("analyses/<int:pk>/", pages.analysis_detail, name="analysis-detail"),
    path("loops/<int:pk>/", pages.loop_detail, name="loop-detail"),
]
