from django.urls import path

from accounts import views

# The names are mozilla-django-oidc's: its session check reverses them.
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/breakglass/<str:token>/", views.breakglass, name="breakglass"),
    path("oidc/authenticate/", views.OidcStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", views.OidcCallbackView.as_view(), name="oidc_authentication_callback"),
    path("oidc/logout/", views.LogoutView.as_view(), name="oidc_logout"),
    path("admin/login/", views.admin_login),
]
