"""Recompute rollups written before latency sketches from the raw results still kept."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from health.models import Probe
from health.services.rollups import rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the latency sketches of rollups converted from the old fixed-bucket "
        "histograms (± 33 %) from raw probe results, where every result of the bucket is still "
        "kept; those rollups then read within ± 1 %. Older ones keep, and show, their old bound. "
        "Safe to run again, and while workers record results."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--probe", type=int, action="append", dest="probes", help="Only this probe id."
        )

    def handle(self, *args, probes: list[int] | None = None, **options) -> None:
        if probes:
            missing = sorted(
                set(probes) - set(Probe.objects.filter(pk__in=probes).values_list("pk", flat=True))
            )
            if missing:
                raise CommandError(
                    f"No probe has id {', '.join(map(str, missing))}; nothing was rebuilt."
                )
        done = rollups_rebuild(now=timezone.now(), probe_ids=probes)
        for table, counts in done.items():
            self.stdout.write(
                f"{table}: {counts.rebuilt} rebuilt from raw results, "
                f"{counts.kept} kept with their old error bound (raw results no longer complete)"
            )
