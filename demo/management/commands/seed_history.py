"""Generate a large, realistic test history fast: `seed_history --runs N --tests M`."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from demo.seed.history import HistoryExists, history_seed


class Command(BaseCommand):
    help = (
        "Write N runs of M tests each (with revisions, deploys, flaky, slow and trivial tests and "
        "failure clusters) into a new suite. COPY on PostgreSQL, bulk inserts on SQLite."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, required=True)
        parser.add_argument("--tests", type=int, required=True)
        parser.add_argument("--service", default="seeded-web")
        parser.add_argument("--suite", default="e2e")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, runs: int, tests: int, service: str, suite: str, seed: int, **opts):
        if runs < 1 or tests < 1:
            raise CommandError("--runs and --tests must be at least 1.")
        began = time.perf_counter()

        def progress(done: int, results: int) -> None:
            if opts["verbosity"] > 1 or done % 1000 == 0:
                rate = results / max(time.perf_counter() - began, 1e-9)
                self.stdout.write(f"  {done} runs, {results} results ({rate:,.0f} results/s)")

        try:
            made = history_seed(
                runs=runs,
                tests=tests,
                service_name=service,
                suite_name=suite,
                seed=seed,
                progress=progress,
            )
        except HistoryExists as exc:
            raise CommandError(str(exc)) from exc
        took = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {made.suite}: {made.runs} runs, {made.results} results, "
                f"{made.revisions} revisions in {took:.1f} s "
                f"({made.results / max(took, 1e-9):,.0f} results/s)."
            )
        )
