from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("summary", views.summary, name="summary"),
    path("summary.md", views.summary_markdown, name="summary-markdown"),
    path("summary.csv", views.summary_csv, name="summary-csv"),
    path("summary.pdf", views.summary_pdf, name="summary-pdf"),
    path("evidence/<slug:kind>", views.evidence, name="evidence"),
    path("capabilities/", views.capability_list, name="capability-list"),
    path("capabilities/new", views.capability_edit, name="capability-create"),
    path("capabilities/<int:pk>/", views.capability_detail, name="capability-detail"),
    path("capabilities/<int:pk>/edit", views.capability_edit, name="capability-edit"),
]
