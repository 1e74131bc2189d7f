"""Search across services, suites, tests, revisions and failure messages (the header box, /search).

Each kind is a case-insensitive substring match (``icontains``: % and _ in the query are
escaped, so they match themselves). On PostgreSQL the migration 0020_search adds pg_trgm GIN
indexes on ``UPPER(column)``, which is what Django's ``icontains`` compares, so a substring
such as "test_login" in "tests/auth/test_login.py" is found through the index, not a scan
(for tests, the indexed ones; those an import has just created are read apart: case_text_q).
On SQLite the tests are matched through the FTS5 trigram table of the same migration (plain
LIKE read all 100,000 tests of a large embedded install, p95 162 ms against 32 ms in
bench/search_sqlite.py); the other kinds are small there and use LIKE.
Failure messages are searched through FailureSignature (one row per distinct normalized
failure per suite: its normalized text and one example message), never through the results
table, which holds every result of every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse

from runs.models import FailureSignature, Revision, Service, Suite, TestCase, TestResult
from runs.params import BadParam

MIN_LENGTH = 2
MAX_LENGTH = 200
# Counts stop here: "1,000+" is as useful as the exact number and costs a bounded scan.
COUNT_CAP = 1000

# The kinds with up to millions of rows are searched only for a text holding a trigram, three
# letters or digits in a row (pg_trgm ignores other characters): "ab" or "_%" gives the index
# nothing to look up, and matching it would read every row. Services and suites are few.
LARGE_KINDS = ("tests", "revisions", "failures")
_TRIGRAM = re.compile(r"[^\W_]{3}")

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
    # At most cap + 1; ``capped`` says the true count is larger than ``cap``.
    count: int
    cap: int = COUNT_CAP
    # False for a large kind and a text without three letters or digits in a row.
    searched: bool = True

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def shown_count(self) -> str:
        return f"{self.cap:,}+" if self.capped else f"{self.count:,}"


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


# How each kind is listed: by these columns, newest (highest id) first when reversed.
_ORDER: dict[str, tuple[tuple[str, ...], bool]] = {
    "services": (("name",), False),
    "suites": (("service__name", "name", "pk"), False),
    "tests": (("pk",), True),
    "revisions": (("pk",), True),
    "failures": (("pk",), True),
}


def case_text_q(q: str) -> Q:
    """Tests whose name, class or file holds ``q`` (case-insensitive): each column has a
    trigram index on PostgreSQL, so a suite of 200,000 tests is not read row by row. `<> ''`
    lets the planner use the partial classname and file indexes (0028).

    Those indexes hold only indexed cases (0032): the cases an import created are searched
    through the partial index of pending ones until runs.services.case_search has run, so a
    run's tests are found as soon as it is visible. Each arm names its index's condition, or
    the planner could not prove it and would read the whole table."""
    indexed = Q(search_pending=False)
    text = (
        Q(name__icontains=q)
        | (Q(classname__icontains=q) & ~Q(classname=""))
        | (Q(file__icontains=q) & ~Q(file=""))
    )
    return (
        (indexed & Q(name__icontains=q))
        | (indexed & Q(classname__icontains=q) & ~Q(classname=""))
        | (indexed & Q(file__icontains=q) & ~Q(file=""))
        | (Q(search_pending=True) & text)
    )


def _sqlite_fts() -> bool:
    """Whether this SQLite database has the tests' FTS5 trigram table (migration 0020_search)."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_case_fts'")
        return cursor.fetchone() is not None


def _matching(kind: str, q: str, *, cap: int = COUNT_CAP) -> QuerySet:
    """The rows of ``kind`` matching ``q`` (unordered), with what their hits show."""
    if kind == "tests" and _sqlite_fts():
        # One FTS5 phrase: the trigram tokenizer finds it as a case-insensitive substring of a
        # column; only a double quote needs escaping inside it.
        phrase = '"' + q.replace('"', '""') + '"'
        return TestCase.objects.filter(
            pk__in=RawSQL(
                "SELECT rowid FROM search_case_fts WHERE search_case_fts MATCH %s LIMIT %s",
                [phrase, cap + 1],
            )
        ).select_related("suite__service")
    if kind == "services":
        return Service.objects.filter(Q(name__icontains=q) | Q(display_name__icontains=q))
    if kind == "suites":
        return Suite.objects.filter(name__icontains=q).select_related("service")
    if kind == "tests":
        return TestCase.objects.filter(case_text_q(q)).select_related("suite__service")
    if kind == "revisions":
        return Revision.objects.filter(
            Q(name__icontains=q) | Q(commit_sha__icontains=q)
        ).select_related("service")
    if kind == "failures":
        return FailureSignature.objects.filter(
            Q(normalized__icontains=q) | Q(example__icontains=q)
        ).select_related("suite__service")
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


def search_group(*, q: str, kind: str, limit: int, offset: int = 0, cap: int = COUNT_CAP) -> Group:
    """Hits ``offset`` to ``offset + limit`` of ``kind`` for ``q``, and how many match
    (counted up to ``cap`` + 1). Two queries; one when nothing matches.

    The first query finds the matches' ids and sort keys without ordering them, stopping at
    COUNT_CAP + 1: PostgreSQL answers it from the trigram indexes for a rare text and from the
    first pages of the table for a common one. An ``ORDER BY id DESC LIMIT 10`` would instead walk
    the primary key through every row when the text is rarer than the planner guessed (seconds
    at a million tests). When more than COUNT_CAP match, the hits come from the first
    COUNT_CAP + 1 found, in the same order; the page says so and asks for more characters.
    """
    if kind in LARGE_KINDS and not _TRIGRAM.search(q):
        return Group(kind=kind, label=KINDS[kind], hits=[], count=0, searched=False)
    fields, newest_first = _ORDER[kind]
    rows = _matching(kind, q, cap=cap)
    found = list(rows.order_by().values_list("pk", *[f for f in fields if f != "pk"])[: cap + 1])
    found.sort(key=lambda row: (*row[1:], row[0]), reverse=newest_first)
    wanted = [row[0] for row in found[offset : offset + limit]]
    by_pk = rows.in_bulk(wanted) if wanted else {}
    hits = [_hit(kind, by_pk[pk]) for pk in wanted if pk in by_pk]
    return Group(kind=kind, label=KINDS[kind], hits=hits, count=len(found), cap=cap)


def search_all(*, q: str, limit: int, cap: int = COUNT_CAP) -> list[Group]:
    """Every kind's first ``limit`` hits for ``q`` and its count, in the order of KINDS."""
    return [search_group(q=q, kind=kind, limit=limit, cap=cap) for kind in KINDS]


def signature_latest_result(*, signature_id: int) -> tuple[int, str] | None:
    """(run id, test name) of the newest result with this failure signature, or None."""
    latest = (
        TestResult.objects.filter(signature_id=signature_id)
        .order_by("-run_id")
        .values_list("run_id", "case__name")
        .first()
    )
    return (latest[0], latest[1]) if latest else None
