"""Writing a run's results while its reports are parsed, in batches, in flat memory.

Repeats of a test are folded here instead of in the parser, with the database as the memory:
a bitmap of the TestCase ids the run already holds (one bit per id, a few MB at most) finds a
repeat; the row it repeats is read back, folded with the parser's own rules (`merge_rerun` and
" #n" numbering within one report, a rerun across reports) and updated. Only repeated keys get
a Python entry, so a report of 1,000,000 distinct tests costs what one of 5,000 does. Reports
are rarely repeat-heavy (a rerun follows a failure), so a repeat's two queries are cheap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connection

from engine.junit import ERROR, FAILED, PASSED, SKIPPED, ParsedCase, merge_rerun, numbered_key
from engine.junit.parser import attempts_join
from runs.models import FailureSignature, Suite, TestResult
from runs.models.testing import case_key_hash, is_real
from runs.services.bulk import IMPORT_COLUMNS, copy_lines, copy_text, is_postgres, rows_insert
from runs.services.ingest_cases import CaseResolver, KnownCases
from runs.services.reality import cases_mark_real
from runs.signatures import failure_signature

# Rows per COPY: 2,000 keeps the import process near 113 MB (5,000 gave 116-121 MB) for
# a few more round trips.
BATCH = 2000
_FAILING = (FAILED, ERROR)
_TABLE = TestResult._meta.db_table
# The columns a repeat reads back and rewrites, in this order.
_FOLDED = (
    "outcome",
    "duration",
    "message",
    "details",
    "output",
    "error_output",
    "attempts",
    "flaky",
    "attempt_log",
)


class _Bits:
    """A set of non-negative ints as a growing bitmap: 1 MB per 8,000,000 ids of range."""

    def __init__(self) -> None:
        self._bits = bytearray()

    def add(self, n: int) -> None:
        byte = n >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        self._bits[byte] |= 1 << (n & 7)

    def __contains__(self, n: int) -> bool:
        byte = n >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (n & 7)))


@dataclass
class Totals:
    """The run's counters, kept up to date as rows are written and repeats folded."""

    counts: dict[str, int] = field(
        default_factory=lambda: {PASSED: 0, FAILED: 0, ERROR: 0, SKIPPED: 0}
    )
    flaky: int = 0
    case_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def failing(self) -> int:
        return self.counts[FAILED] + self.counts[ERROR]


class ResultWriter:
    """Takes one report's cases after another (`report_start`, then `add` per case) and writes
    them as result rows of `run_id`; `close` writes the last batch. Attachment-bearing cases
    are kept (`attached`, `origin`) for the attachment step after every row is written."""

    def __init__(self, *, run_id: int, suite: Suite, known: KnownCases) -> None:
        self.run_id = run_id
        self.suite = suite
        self.totals = Totals()
        self.attached: dict[int, ParsedCase] = {}  # TestCase id -> case naming attachments
        self.origin: dict[int, str] = {}  # id(case) -> the report its attachments resolve in
        self._known = known
        self._resolver: CaseResolver | None = None
        self._signatures: dict[str, int] = {}
        self._in_run = _Bits()
        self._in_report = _Bits()
        self._repeats: dict[int, list[int]] = {}  # base id -> [distinct count, latest id]
        self._batch: list[tuple[ParsedCase, str]] = []
        self._report = ""
        self._postgres = is_postgres()

    def report_start(self, name: str) -> None:
        self.close()
        self._report = name
        self._in_report = _Bits()
        self._repeats = {}

    def add(self, case: ParsedCase) -> None:
        self.totals.case_seconds += case.duration
        self._batch.append((case, case_key_hash(case.key)))
        if len(self._batch) >= BATCH:
            self.close()

    def close(self) -> None:
        """Write the batch in hand (call before reading the run's rows)."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        ids, plain = self._cases.resolve(batch)
        rows: list[tuple[ParsedCase, int]] = []
        real: list[int] = []
        for case, key_hash in batch:
            pk = ids[key_hash]
            if pk in plain and is_real(case.outcome, case.duration):
                real.append(pk)
            if pk in self._in_run:
                self._rows_write(rows)
                rows = []
                self._repeat(case, pk)
            else:
                self._claim(case, pk)
                rows.append((case, pk))
        self._rows_write(rows)
        cases_mark_real(ids=real)

    @property
    def search_pending(self) -> int:
        """How many cases this import created that search has yet to index (case_search)."""
        return self._resolver.search_pending if self._resolver is not None else 0

    @property
    def _cases(self) -> CaseResolver:
        if self._resolver is None:  # waits for the read-ahead only when the first batch is due
            self._resolver = CaseResolver(suite=self.suite, prefetched=self._known.result())
        return self._resolver

    def _claim(self, case: ParsedCase, pk: int) -> None:
        self._in_run.add(pk)
        self._in_report.add(pk)
        totals = self.totals
        totals.counts[case.outcome] += 1
        totals.flaky += case.flaky
        if case.attachments:
            self._attach(pk, case.key, case.attachments)

    def _attach(self, pk: int, key: str, attachments: list[str]) -> None:
        """Keep the files a case names (not its texts) for the attachment step."""
        replaced = self.attached.get(pk)
        if replaced is not None:
            del self.origin[id(replaced)]
        held = ParsedCase(key, "", "", "", "", PASSED, 0.0)
        held.attachments = list(dict.fromkeys(attachments))
        self.attached[pk] = held
        self.origin[id(held)] = self._report

    def _repeat(self, case: ParsedCase, pk: int) -> None:
        """Fold a case whose TestCase the run already holds, as parse_report and the
        cross-report merge would have."""
        if pk not in self._in_report:  # the same test in an earlier report: a rerun
            self._merge_across(case, pk)
            return
        state = self._repeats.setdefault(pk, [1, pk])
        earlier = self._row(state[1])
        if earlier.outcome in _FAILING:  # a rerun of a failure (see parser._Parser._fold)
            merge_rerun(earlier, case)
            self._row_update(state[1], earlier, case)
            return
        # A distinct test that shares its title: " #n", its own TestCase.
        state[0] += 1
        case.key = numbered_key(case.key, state[0])
        key_hash = case_key_hash(case.key)
        ids, _ = self._cases.resolve([(case, key_hash)])
        state[1] = ids[key_hash]
        if state[1] in self._in_run:
            self._merge_across(case, state[1])
        else:
            self._claim(case, state[1])
            self._rows_write([(case, state[1])])

    def _merge_across(self, case: ParsedCase, pk: int) -> None:
        """The later report's case wins, with every attempt, the summed time and attachments."""
        earlier = self._row(pk)
        case.attempt_log = attempts_join(earlier, case)
        case.attempts += earlier.attempts
        case.duration += earlier.duration
        case.flaky = case.flaky or (earlier.outcome != case.outcome)
        self._in_report.add(pk)
        self._row_update(pk, case, case)

    def _row(self, pk: int) -> ParsedCase:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_FOLDED)} FROM {_TABLE} WHERE run_id = %s AND case_id = %s",  # noqa: S608
                [self.run_id, pk],
            )
            outcome, duration, message, details, output, errors, attempts, flaky, log = (
                cursor.fetchone()
            )
        if isinstance(log, str):  # SQLite hands JSON back as text
            log = json.loads(log)
        case = ParsedCase("", "", "", "", "", outcome, duration, message, details, output)
        case.error_output, case.attempts, case.flaky = errors, attempts, flaky
        case.attempt_log = log or []
        held = self.attached.get(pk)
        case.attachments = list(held.attachments) if held is not None else []
        return case

    def _row_update(self, pk: int, merged: ParsedCase, later: ParsedCase) -> None:
        """Store `merged` as the run's row of TestCase `pk`; `later` is the case just read."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT outcome, flaky FROM {_TABLE} WHERE run_id = %s AND case_id = %s",  # noqa: S608
                [self.run_id, pk],
            )
            outcome, flaky = cursor.fetchone()
            totals = self.totals
            totals.counts[outcome] -= 1
            totals.flaky -= bool(flaky)
            totals.counts[merged.outcome] += 1
            totals.flaky += merged.flaky
            signature = self._signature_ids([merged]).get(id(merged))
            cursor.execute(
                f"UPDATE {_TABLE} SET {', '.join(f'{c} = %s' for c in _FOLDED)}, "  # noqa: S608
                "signature_id = %s WHERE run_id = %s AND case_id = %s",
                [
                    merged.outcome,
                    merged.duration,
                    merged.message,
                    merged.details,
                    merged.output,
                    merged.error_output,
                    min(merged.attempts, 32767),
                    merged.flaky,
                    json.dumps(merged.attempt_log) if merged.attempt_log else None,
                    signature,
                    self.run_id,
                    pk,
                ],
            )
        if merged.attachments or later.attachments:
            self._attach(pk, merged.key, [*merged.attachments, *later.attachments])
        if is_real(merged.outcome, merged.duration):
            cases_mark_real(ids=[pk])

    def _signature_ids(self, cases: list[ParsedCase]) -> dict[int, int]:
        """id(case) -> FailureSignature id for the failing ones, creating unseen signatures."""
        by_case: dict[int, str] = {}
        new: dict[str, tuple[str, str, str]] = {}
        for case in cases:
            if case.outcome not in _FAILING:
                continue
            signature = failure_signature(kind=case.outcome, message=case.message or case.details)
            by_case[id(case)] = signature.hash
            if signature.hash not in self._signatures:
                new.setdefault(
                    signature.hash, (case.outcome, signature.normalized, case.message[:2000])
                )
        if new:
            self._signatures.update(_signatures_upsert(self.suite, new))
        return {key: self._signatures[digest] for key, digest in by_case.items()}

    def _rows_write(self, rows: list[tuple[ParsedCase, int]]) -> None:
        if not rows:
            return
        sig = self._signature_ids([case for case, _ in rows]).get
        run_id, dumps = self.run_id, json.dumps
        if self._postgres:
            text, null = copy_text, "\\N"
            copy_lines(
                _TABLE,
                IMPORT_COLUMNS,
                (
                    f"{run_id}\t{pk}\t{c.outcome}\t{c.duration!r}\t{text(c.message)}\t"
                    f"{text(c.details)}\t{text(c.output)}\t{min(c.attempts, 32767)}\t"
                    f"{'t' if c.flaky else 'f'}\t{sig(id(c)) or null}\t{text(c.error_output)}\t"
                    f"{text(dumps(c.attempt_log)) if c.attempt_log else null}\n"
                    for c, pk in rows
                ),
            )
            return
        rows_insert(
            _TABLE,
            IMPORT_COLUMNS,
            (
                (
                    run_id,
                    pk,
                    c.outcome,
                    c.duration,
                    c.message,
                    c.details,
                    c.output,
                    min(c.attempts, 32767),
                    c.flaky,
                    sig(id(c)),
                    c.error_output,
                    dumps(c.attempt_log) if c.attempt_log else None,
                )
                for c, pk in rows
            ),
        )


def _signatures_upsert(suite: Suite, new: dict[str, tuple[str, str, str]]) -> dict[str, int]:
    """Create the suite's FailureSignatures among `new` (hash -> kind, normalized, example)
    that do not exist, mark them all seen now, and return hash -> id."""
    from django.utils import timezone

    FailureSignature.objects.bulk_create(
        [
            FailureSignature(suite=suite, kind=kind, hash=digest, normalized=norm, example=example)
            for digest, (kind, norm, example) in new.items()
        ],
        ignore_conflicts=True,
    )
    signatures = FailureSignature.objects.filter(suite=suite, hash__in=list(new))
    signatures.update(last_seen_at=timezone.now())
    return dict(signatures.values_list("hash", "id"))
