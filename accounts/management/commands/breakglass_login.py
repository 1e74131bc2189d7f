"""`manage.py breakglass_login USERNAME`: print a one-time sign-in link for an admin."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accounts.breakglass import MAX_MINUTES, BreakglassRefused, breakglass_token_make

logger = logging.getLogger("accounts.breakglass")


class Command(BaseCommand):
    help = (
        "Print a one-time sign-in link for an admin, which works while password sign-in is "
        "switched off or the identity provider is down."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--minutes", type=int, default=10, help=f"how long the link works (1-{MAX_MINUTES})"
        )
        parser.add_argument(
            "--base-url",
            default=settings.PUBLIC_URL,
            help="the address Stageloop is reached at (default: STAGELOOP_PUBLIC_URL)",
        )

    def handle(self, *args, username: str, minutes: int, base_url: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        try:
            token = breakglass_token_make(user=user, minutes=minutes)
        except BreakglassRefused as exc:
            raise CommandError(str(exc)) from None
        logger.warning("break-glass sign-in link made for %s (%s min)", username, minutes)
        link = base_url.rstrip("/") + reverse("breakglass", args=[token])
        self.stdout.write(link)
        if not base_url:
            self.stderr.write("Put the address Stageloop is reached at before this path.")
        self.stderr.write(f"It works once, within {minutes} minutes.")
