"""The one data structure every rendering of the summary (page, Markdown, CSV, PDF) reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Figure:
    key: str  # stable id, e.g. "delivery.change_failure_rate"
    label: str
    text: str  # what a person reads: "97.3 %" or "not enough data (2 runs, needs 3)"
    value: float | None  # the number behind the text (None when there is not enough data)
    unit: str
    n: int  # how many rows it was computed from
    enough: bool
    evidence_url: str
    definition: str
    band: str = ""  # "High" …
    band_source: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: list[Figure]


@dataclass(frozen=True)
class BehindTest:
    case_id: int
    key: str
    outcome: str  # failed, error, flaky, skipped, not run
    run_id: int | None
    at: datetime | None
    url: str


@dataclass(frozen=True)
class CapabilityStatus:
    pk: int
    name: str
    status: str  # green, failing, at_risk, no_tests
    status_text: str
    total: int
    passing: int
    failing: int
    flaky: int
    skipped: int
    not_run: int
    url: str
    behind: list[BehindTest] = field(default_factory=list)


@dataclass(frozen=True)
class Risk:
    key: str
    outcome: str
    capabilities: str
    run_id: int | None
    at: datetime | None
    url: str


@dataclass(frozen=True)
class QuarantinedTest:
    key: str
    capabilities: str
    reason: str
    since: datetime
    automatic: bool
    url: str


@dataclass(frozen=True)
class Point:
    x: date
    y: float | None
    label: str = ""


@dataclass(frozen=True)
class DeployBucket:
    start: date  # first day of the day or week
    succeeded: int
    failed: int


@dataclass(frozen=True)
class DeploySeries:
    bucket: str  # "day" or "week"
    buckets: list[DeployBucket]


@dataclass(frozen=True)
class Summary:
    start: date
    end: date
    services: str
    generated_at: datetime
    sections: list[Section]
    capabilities: list[CapabilityStatus]
    risks: list[Risk]
    pass_rate_daily: list[Point]
    deploys: DeploySeries
    query: str  # the query string that reproduces it
    demo_services: list[str] = field(default_factory=list)  # seeded services in the scope
    quarantined: list[QuarantinedTest] = field(default_factory=list)  # covering a capability

    @property
    def demo_notice(self) -> str:
        """What every rendering says when seeded demo data is counted; empty when none is."""
        if not self.demo_services:
            return ""
        return f"Includes demo data from {', '.join(self.demo_services)}"

    def figure(self, key: str) -> Figure:
        for section in self.sections:
            for figure in section.figures:
                if figure.key == key:
                    return figure
        raise KeyError(key)
