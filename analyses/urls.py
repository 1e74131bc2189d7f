from django.urls import path

from analyses.views import analyses

urlpatterns = [
    path("analyses/", analyses.analysis_list, name="analysis-list"),
    path("analyses/<int:pk>/", analyses.analysis_detail, name="analysis-detail"),
    path("analyses/<int:pk>/edit", analyses.analysis_edit, name="analysis-edit"),
    path("action-items/", analyses.action_item_list, name="action-item-list"),
    path("results/<int:pk>/analyze", analyses.analyze_result, name="analyze-result"),
    path("signatures/<int:pk>/analyze", analyses.analyze_signature, name="analyze-signature"),
    path("runs/<int:pk>/analyze", analyses.analyze_run, name="analyze-run"),
]
