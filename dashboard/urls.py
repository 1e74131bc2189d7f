from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from dashboard import views
from reports import views as report_views
from runs.api import api

urlpatterns = [
    path("", views.overview, name="overview"),
    path("worker-status", views.worker_status_partial, name="worker-status"),
    path("healthz", login_not_required(views.healthz), name="healthz"),
    # The one page open without a login, when its status page is public (the view decides).
    path("status/<slug:slug>/", report_views.status_page, name="status-page"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before admin/: the login page, single sign-on, break-glass links, the admin's login.
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("runs.urls")),
    path("", include("analyses.urls")),
    path("", include("integrations.urls")),
]

handler400 = "dashboard.errors.bad_request"
handler403 = "dashboard.errors.permission_denied"
handler404 = "dashboard.errors.page_not_found"
handler500 = "dashboard.errors.server_error"
