"""The sign-in pages: the login page (password and/or single sign-on), the provider's callback
with a clear page for each refusal, and the break-glass link."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from mozilla_django_oidc import views as oidc_views

from accounts.backends import SignInRefused
from accounts.breakglass import BreakglassRefused, breakglass_user

logger = logging.getLogger(__name__)

LOCAL_OFF = (
    "Password sign-in is switched off on this server{sso}. An admin who is locked out can use "
    "a break-glass link (manage.py breakglass_login, see the README)."
)


def _local_off_sentence() -> str:
    sso = f": sign in with {settings.OIDC_PROVIDER_NAME}" if settings.OIDC_ENABLED else ""
    return LOCAL_OFF.format(sso=sso)


def _refused(request: HttpRequest, sentence: str, *, status: int = 403) -> HttpResponse:
    return render(request, "registration/sso_refused.html", {"sentence": sentence}, status=status)


class LoginView(auth_views.LoginView):
    """Django's login page, with the single sign-on button, and no password form when local
    sign-in is off (a password posted anyway is refused with a sentence, not checked)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["local_login"] = settings.LOCAL_LOGIN_ENABLED
        context["oidc_enabled"] = settings.OIDC_ENABLED
        context["oidc_provider_name"] = settings.OIDC_PROVIDER_NAME
        if not settings.LOCAL_LOGIN_ENABLED:
            context["local_off"] = _local_off_sentence()
        return context

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            context = self.get_context_data(form=self.get_form())
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)


@login_not_required
def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's own login form, unless password sign-in is off: then the login page."""
    if not settings.LOCAL_LOGIN_ENABLED and not request.user.is_authenticated:
        query = urlencode({"next": request.GET.get("next", "/admin/")})
        return redirect(f"{reverse('login')}?{query}")
    return admin.site.login(request, extra_context)


@method_decorator(login_not_required, name="dispatch")
class OidcStartView(oidc_views.OIDCAuthenticationRequestView):
    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured on this server.")
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class OidcCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    """The provider sends the browser back here; every way this can fail ends on a page that
    says what was wrong and what to do."""

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured on this server.")
        name = settings.OIDC_PROVIDER_NAME
        error = request.GET.get("error")
        if error:
            was_signed_in = request.user.is_authenticated
            super().get(request)  # forgets the state and signs the user out
            logger.info(
                "oidc: the provider answered %s (%s)",
                error,
                request.GET.get("error_description", ""),
            )
            if was_signed_in:
                return _refused(
                    request,
                    f"Your session needed a check with {name}, which did not confirm it "
                    f"({error}), so you are signed out. Sign in again.",
                    status=401,
                )
            return _refused(
                request, f"{name} did not sign you in ({error}). Start again, or ask an admin."
            )
        try:
            return super().get(request)
        except SignInRefused as exc:
            return _refused(request, str(exc))
        except SuspiciousOperation:
            return self.login_failure()

    def login_failure(self):
        return _refused(
            self.request,
            f"This sign-in with {settings.OIDC_PROVIDER_NAME} could not be completed: it was "
            "started in another browser or tab, or its link was already used. Start again from "
            "the sign-in page.",
        )


@login_not_required
def breakglass(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a click (so a link preview or scanner does not use the link up); POST signs
    the admin in."""
    try:
        user = breakglass_user(token)
    except BreakglassRefused as exc:
        return _refused(request, str(exc))
    if request.method == "POST":
        logout(request)
        login(request, user, backend="accounts.backends.LocalPasswordBackend")
        logger.warning(
            "break-glass sign-in by %s from %s",
            user.get_username(),
            request.META.get("REMOTE_ADDR"),
        )
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/breakglass.html", {"breakglass_user": user})


LogoutView = auth_views.LogoutView
