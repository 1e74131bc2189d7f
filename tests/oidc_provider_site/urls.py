from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.oidc_provider_site import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("test/users", views.user_put),
    path("test/clients", views.client_put),
    path("test/mode", views.mode_put),
    path("test/impostor-jwks", views.impostor_jwks),
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
]
