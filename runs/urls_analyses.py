from django.urls import path

from runs.views import analyses

urlpatterns = [
    path("analyses/<int:pk>/", analyses.analysis_detail, name="analysis-detail"),
]
