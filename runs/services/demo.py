"""Demo data: services the seeders marked (Service.is_demo), and removing them in one go."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from runs.models import Service


@dataclass(frozen=True)
class DemoRemoval:
    removed: list[str]  # names of the demo services deleted
    rows: int  # rows deleted with them, every table included
    left: list[str] = field(default_factory=list)  # real services that were asked for and kept


@transaction.atomic
def demo_data_remove(*, services: QuerySet[Service] | None = None) -> DemoRemoval:
    """Delete every demo service (or the demo ones among `services`) with everything under it:
    revisions, deploys, builds, suites, runs, results, test cases, signatures, analyses, loops,
    probes and incidents. All or nothing; a real service is never touched, and one named in
    `services` is reported in ``left``."""
    asked = Service.objects.all() if services is None else services
    left = (
        []
        if services is None
        else sorted(asked.filter(is_demo=False).values_list("name", flat=True))
    )
    demo = Service.objects.filter(pk__in=asked.filter(is_demo=True).values("pk"))
    names = sorted(demo.values_list("name", flat=True))
    if not names:
        return DemoRemoval(removed=[], rows=0, left=left)
    total, _ = demo.delete()
    return DemoRemoval(removed=names, rows=total - len(names), left=left)


def demo_removal_message(removal: DemoRemoval) -> str:
    """One sentence for the command line and the admin."""
    n = len(removal.removed)
    if not n:
        return "There is no demo data to remove."
    services = "service" if n == 1 else "services"
    return (
        f"Removed {n} demo {services} ({', '.join(removal.removed)}) and {removal.rows} rows "
        f"under {'it' if n == 1 else 'them'}."
    )
