"""Recompute the flaky-window read model of every suite (or one) from the stored results."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from runs.models import Suite
from runs.services.read_models import flake_window_rebuild, flake_windows_rebuild


class Command(BaseCommand):
    help = "Recompute which tests are flaky over each suite's last FLAKY_WINDOW runs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--suite", type=int, help="only this suite id")

    def handle(self, *args, suite: int | None = None, **options) -> None:
        if suite is not None:
            if not Suite.objects.filter(pk=suite).exists():
                raise CommandError(f"No suite has id {suite}; `manage.py shell` lists them.")
            flake_window_rebuild(suite_id=suite)
            self.stdout.write(f"Rebuilt the flaky window of suite {suite}.")
            return
        count = flake_windows_rebuild()
        self.stdout.write(f"Rebuilt the flaky window of {count} suites.")
