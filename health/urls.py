from django.urls import path

from health import views

urlpatterns = [
    path("services/<slug:name>/health/", views.service_health, name="service-health"),
    path("services/<slug:name>/maintenance/", views.maintenance_list, name="maintenance-list"),
    path(
        "services/<slug:name>/maintenance/new",
        views.maintenance_create,
        name="maintenance-create",
    ),
    path(
        "services/<slug:name>/maintenance/<int:pk>/edit",
        views.maintenance_edit,
        name="maintenance-edit",
    ),
    path(
        "services/<slug:name>/maintenance/<int:pk>/delete",
        views.maintenance_delete,
        name="maintenance-delete",
    ),
]
