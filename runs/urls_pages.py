from django.urls import path

from runs.views import pages

urlpatterns = [
    path("services/<slug:name>/", pages.service_detail, name="service-detail"),
    path("revisions/<int:pk>/", pages.revision_detail, name="revision-detail"),
    path("suites/<int:pk>/", pages.suite_detail, name="suite-detail"),
    path("runs/<int:pk>/", pages.run_detail, name="run-detail"),
    path("tests/<int:pk>/", pages.test_detail, name="test-detail"),
]
