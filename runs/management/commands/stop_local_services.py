"""Stop every process that local deploys started (make run runs this when it stops)."""

from django.core.management.base import BaseCommand

from runs.services.local_services import local_services_stop


class Command(BaseCommand):
    help = "Stop the processes of live local-target revisions and record them as retired."

    def handle(self, *args, **options):
        stopped = local_services_stop()
        for revision in stopped:
            self.stdout.write(f"Stopped {revision.service.name} revision {revision.name}.")
        if not stopped:
            self.stdout.write("No local service was running.")
