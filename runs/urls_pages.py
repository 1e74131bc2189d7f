from django.urls import path

from runs.views import attachments, compare, pages, run_pages, search

urlpatterns = [
    path("services/<slug:name>/", pages.service_detail, name="service-detail"),
    path("revisions/<int:pk>/", pages.revision_detail, name="revision-detail"),
    path("suites/<int:pk>/", pages.suite_detail, name="suite-detail"),
    path("suites/<int:pk>/tree", pages.suite_tree_branch, name="suite-tree-branch"),
    path("runs/<int:pk>/", run_pages.run_detail, name="run-detail"),
    path("runs/<int:pk>/progress", run_pages.run_progress, name="run-progress"),
    path(
        "runs/<int:pk>/artifacts/<int:artifact_pk>",
        run_pages.artifact_download,
        name="run-artifact",
    ),
    path("tests/<int:pk>/", pages.test_detail, name="test-detail"),
    path("attachments/<int:pk>", attachments.attachment_download, name="attachment-download"),
    path("compare", compare.compare, name="compare"),
    path("search", search.search_page, name="search"),
    path("search/typeahead", search.search_typeahead, name="search-typeahead"),
    path("search/failures/<int:pk>", search.search_failure, name="search-failure"),
]
