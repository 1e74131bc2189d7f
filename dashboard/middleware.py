"""Login for every page, except the API, which authenticates each request itself."""

from __future__ import annotations

from django.contrib.auth.middleware import LoginRequiredMiddleware


class PagesLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None  # token or session auth, answered with 401/403 JSON, never a redirect
        return super().process_view(request, view_func, view_args, view_kwargs)
