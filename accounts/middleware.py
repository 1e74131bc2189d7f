"""The session check: a user signed in through the identity provider is sent back to it
(silently, prompt=none) every STAGELOOP_OIDC_SESSION_CHECK_SECONDS, which signs them out if the
provider no longer knows them and re-reads their groups, so their roles follow the provider."""

from __future__ import annotations

from django.conf import settings
from mozilla_django_oidc.middleware import SessionRefresh


class OidcSessionCheck:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        # Settings are read per request so that the switch is the setting, not start-up order.
        # Only page loads are sent to the provider: an htmx fragment or an API call cannot follow
        # a redirect to another site, and the next page load makes the check.
        if (
            settings.OIDC_ENABLED
            and not request.path_info.startswith("/api/")
            and "HX-Request" not in request.headers
        ):
            response = SessionRefresh(self.get_response).process_request(request)
            if response is not None:
                return response
        return self.get_response(request)
