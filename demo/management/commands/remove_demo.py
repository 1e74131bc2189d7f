"""Delete the demo data that seed_demo and seed_history wrote: `manage.py remove_demo`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from runs.services.demo import demo_data_remove, demo_removal_message


class Command(BaseCommand):
    help = (
        "Delete every demo service (marked by seed_demo or seed_history) and everything under it, "
        "in one transaction. Real services and their data are left as they are."
    )

    def handle(self, *args, **options):
        self.stdout.write(demo_removal_message(demo_data_remove()))
