"""What the overview cards show beyond runs: health state, p95 latency, analyses."""

from __future__ import annotations

from analyses.selectors.analyses import analysis_counts_by_service
from health.ranges import health_range
from health.selectors.latency import latency_p95_by_service
from health.selectors.states import service_health_states
from runs import charts
from runs.selectors.overview import ServiceCard
from runs.time_range import TimeRange


def cards_decorate(cards: list[ServiceCard], *, app_range: TimeRange) -> None:
    """Attach to each card its charts, health state, p95 latency trend and analysis counts.

    A fixed number of queries, whatever the number of services, probe results or analyses
    (the latency trends are read from rollups, for every service at once).
    """
    states = service_health_states([c.service.pk for c in cards])
    counts = analysis_counts_by_service()
    time_range = health_range(app_range)
    latency = latency_p95_by_service(
        service_ids=[c.service.pk for c in cards], time_range=time_range, end=app_range.end
    )
    for card in cards:
        card.day_chart = charts.figure_json(
            charts.sparkline(
                [d for d, _, _ in card.by_day],
                [r for _, r, _ in card.by_day],
                name="pass rate per day",
                x_range=(app_range.start, app_range.end),
            )
        )
        card.run_chart = charts.figure_json(
            charts.sparkline(
                [at for _, at, _ in card.by_run],
                [r for _, _, r in card.by_run],
                name="pass rate per run",
                run_ids=[pk for pk, _, _ in card.by_run],
            )
        )
        card.health = states.get(card.service.pk)
        card.analyses = counts.get(card.service.pk, {"open_analyses": 0, "overdue_action_items": 0})
        points = latency.get(card.service.pk, [])
        card.latency_chart = (
            charts.figure_json(
                charts.latency_sparkline(
                    [t for t, _ in points],
                    [p for _, p in points],
                    x_range=(app_range.start, app_range.end),
                )
            )
            if points
            else None
        )
