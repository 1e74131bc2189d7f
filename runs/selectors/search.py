"""Search across services, suites, tests, revisions and failure messages (the header box, /search).

Each kind is a case-insensitive substring match (``icontains``: % and _ in the query are
escaped, so they match themselves). On PostgreSQL the migration 0020_search adds pg_trgm GIN
indexes on ``UPPER(column)``, which is what Django's ``icontains`` compares, so a substring
such as "test_login" in "tests/auth/test_login.py" is found through the index, not a scan.
Failure messages are searched through FailureSignature (one row per distinct normalized
failure per suite: its normalized text and one example message), never through the results
table, which holds every result of every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet
from django.urls import reverse

from runs.models import FailureSignature, Revision, Service, Suite, TestCase, TestResult
from runs.params import BadParam

MIN_LENGTH = 2
MAX_LENGTH = 200
# Counts stop here: "1,000+" is as useful as the exact number and costs a bounded scan.
COUNT_CAP = 1000

KINDS: dict[str, str] = {
    "services": "Services",
    "suites": "Suites",
    "tests": "Tests",
    "revisions": "Revisions",
    "failures": "Failures",
}


@dataclass(frozen=True)
class Hit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class Group:
    kind: str
    label: str
    hits: list[Hit]
    # At most COUNT_CAP + 1; ``capped`` says the true count is larger than COUNT_CAP.
    count: int

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    @property
    def shown_count(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.count:,}"


def search_query_clean(raw: str) -> str | None:
    """The text to search for: ``raw`` without surrounding spaces; None when it is shorter
    than MIN_LENGTH (nothing is searched). Raises BadParam when it is longer than MAX_LENGTH."""
    text = raw.strip()
    if len(text) > MAX_LENGTH:
        raise BadParam(
            f"The search text is {len(text):,} characters long; search for at most "
            f"{MAX_LENGTH} characters, such as a test name or part of a failure message.",
            name="q",
        )
    return text if len(text) >= MIN_LENGTH else None


def _matching(kind: str, q: str) -> QuerySet:
    """The rows of ``kind`` matching ``q``, in the order the page lists them."""
    if kind == "services":
        return Service.objects.filter(Q(name__icontains=q) | Q(display_name__icontains=q)).order_by(
            "name"
        )
    if kind == "suites":
        return (
            Suite.objects.filter(name__icontains=q)
            .select_related("service")
            .order_by("service__name", "name", "pk")
        )
    if kind == "tests":
        # Newest first: the primary key orders them without sorting every match.
        return (
            TestCase.objects.filter(
                Q(name__icontains=q) | Q(classname__icontains=q) | Q(file__icontains=q)
            )
            .select_related("suite__service")
            .order_by("-pk")
        )
    if kind == "revisions":
        return (
            Revision.objects.filter(Q(name__icontains=q) | Q(commit_sha__icontains=q))
            .select_related("service")
            .order_by("-pk")
        )
    if kind == "failures":
        return (
            FailureSignature.objects.filter(Q(normalized__icontains=q) | Q(example__icontains=q))
            .select_related("suite__service")
            .order_by("-pk")
        )
    raise ValueError(f"unknown search kind {kind!r}")


def _hit(kind: str, row: Model) -> Hit:
    if isinstance(row, Service):
        return Hit(str(row), row.name, row.get_absolute_url())
    if isinstance(row, Suite):
        return Hit(row.name, row.service.name, row.get_absolute_url())
    if isinstance(row, TestCase):
        where = row.file or row.classname
        return Hit(
            row.name, f"{row.suite} · {where}" if where else str(row.suite), row.get_absolute_url()
        )
    if isinstance(row, Revision):
        sha = f" · {row.commit_sha[:12]}" if row.commit_sha else ""
        return Hit(row.name, f"{row.service.name}{sha}", row.get_absolute_url())
    if isinstance(row, FailureSignature):
        return Hit(
            row.normalized[:160],
            f"{row.suite} · {row.get_kind_display().lower()}",
            reverse("search-failure", args=[row.pk]),
        )
    raise ValueError(f"no hit for {kind!r}")


def search_group(*, q: str, kind: str, limit: int, offset: int = 0, count: bool = True) -> Group:
    """Up to ``limit`` hits of ``kind`` for ``q`` from ``offset``, and how many there are
    (counted up to COUNT_CAP + 1; -1 when ``count`` is False). Two queries, or one."""
    rows = _matching(kind, q)
    hits = [_hit(kind, row) for row in rows[offset : offset + limit]]
    total = rows.order_by()[: COUNT_CAP + 1].count() if count else -1
    return Group(kind=kind, label=KINDS[kind], hits=hits, count=total)


def search_all(*, q: str, limit: int, count: bool = True) -> list[Group]:
    """Every kind's first ``limit`` hits for ``q`` (and counts), in the order of KINDS."""
    return [search_group(q=q, kind=kind, limit=limit, count=count) for kind in KINDS]


def signature_latest_result(*, signature_id: int) -> tuple[int, str] | None:
    """(run id, test name) of the newest result with this failure signature, or None."""
    latest = (
        TestResult.objects.filter(signature_id=signature_id)
        .order_by("-run_id")
        .values_list("run_id", "case__name")
        .first()
    )
    return (latest[0], latest[1]) if latest else None
