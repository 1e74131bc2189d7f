"""Login for every page, except the API, which authenticates each request itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class PagesLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None  # token or session auth, answered with 401/403 JSON, never a redirect
        return super().process_view(request, view_func, view_args, view_kwargs)


class PageRequest(HttpRequest):
    """The request a page view gets: the middleware above let it through, so a user signed in.

    For annotations only (a view that reads the signed-in user's own rows); never instantiated.
    """

    user: User
