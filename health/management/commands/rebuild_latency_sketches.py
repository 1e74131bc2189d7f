"""Recompute rollups written before latency sketches from the raw results still kept."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from health.models import Probe
from health.services.retention import retention_days
from health.services.rollups import day_rollups_refresh, rollups_rebuild
from health.services.sealing import latency_points_seal


class Command(BaseCommand):
    help = (
        "Recompute the latency sketches of rollups converted from the old fixed-bucket "
        "histograms (± 33 %) from raw probe results, where every result of the bucket is still "
        "kept; those rollups then read within ± 1 %. Older ones keep, and show, their old bound. "
        "Safe to run again, and while workers record results. Day rollups of the rebuilt days "
        "are recomputed from their hour rollups; --day-rollups recomputes all of them (after "
        "changing STAGELOOP_TIME_ZONE)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--probe", type=int, action="append", dest="probes", help="Only this probe id."
        )
        parser.add_argument(
            "--day-rollups",
            action="store_true",
            help="Recompute every day rollup from the hour rollups (days of STAGELOOP_TIME_ZONE).",
        )

    def handle(
        self, *args, probes: list[int] | None = None, day_rollups: bool = False, **options
    ) -> None:
        if probes:
            missing = sorted(
                set(probes) - set(Probe.objects.filter(pk__in=probes).values_list("pk", flat=True))
            )
            if missing:
                raise CommandError(
                    f"No probe has id {', '.join(map(str, missing))}; nothing was rebuilt."
                )
        now = timezone.now()
        done = rollups_rebuild(now=now, probe_ids=probes)
        for table, counts in done.items():
            self.stdout.write(
                f"{table}: {counts.rebuilt} rebuilt from raw results, "
                f"{counts.kept} kept with their old error bound (raw results no longer complete)"
            )
        if day_rollups or done["ProbeRollupHour"].rebuilt:
            # Only days with raw results can have been rebuilt: the retention of results, + 1 day.
            since = None if day_rollups else now - timedelta(days=retention_days()["results"] + 1)
            made = day_rollups_refresh(since=since, probe_ids=probes)
            self.stdout.write(f"ProbeRollupDay: {made} recomputed from the hour rollups")
            # The sealed chart points of those days and hours are recomputed too.
            oldest = now - timedelta(days=max(retention_days().values()) + 1)
            sealed = latency_points_seal(now=now, since=since or oldest)
            self.stdout.write(f"LatencyPoint: {sum(sealed.values())} recomputed")
