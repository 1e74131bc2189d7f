"""The request type page views get."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class PageRequest(HttpRequest):
    """The request a page view gets: dashboard's login middleware let it through, so a user is
    signed in. For annotations only (a view that reads the signed-in user's own rows); never
    instantiated."""

    user: User
