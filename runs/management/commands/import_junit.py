"""Import JUnit XML reports as one run: manage.py import_junit FILE... --service S --suite N"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from runs.models import TestRun
from runs.services.ingest import IngestError, ReportFile, started_at_parse, upload_import


class Command(BaseCommand):
    help = "Import JUnit XML reports (plain or gzip) as one test run of a suite."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--service", required=True)
        parser.add_argument("--suite", required=True)
        parser.add_argument("--revision", default="")
        parser.add_argument("--commit", default="")
        parser.add_argument("--started-at", default="")
        parser.add_argument(
            "--create", action="store_true", help="create an unknown suite or revision"
        )
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, files, service, suite, revision, commit, started_at, create, **opts):
        try:
            reports = []
            for path in files:
                if not path.is_file():
                    raise IngestError(f"{path} does not exist or is not a file.", file=str(path))
                reports.append(ReportFile(name=path.name, path=str(path)))
            result = upload_import(
                service=service,
                suite=suite,
                revision=revision,
                commit=commit,
                create=create,
                files=reports,
                trigger=TestRun.Trigger.CLI,
                started_at=started_at_parse(started_at),
            )
        except IngestError as exc:
            raise CommandError(str(exc)) from None
        run = result.run
        verb = "Imported" if result.created else "Already imported as"
        self.stdout.write(
            f"{verb} run #{run.pk}: {opts['base_url'].rstrip('/')}{run.get_absolute_url()}\n"
            f"{run.total} tests: {run.passed} passed, {run.failed} failed, {run.errors} errors, "
            f"{run.skipped} skipped, {run.flaky} flaky"
        )
        for warning in result.warnings[:20]:
            self.stderr.write(f"warning: {warning}")
