from django.urls import path

from health import views

urlpatterns = [
    path("services/<slug:name>/health/", views.service_health, name="service-health"),
]
