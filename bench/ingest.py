"""Ingest benchmark: jest-monorepo.xml end to end, synthetic reports of 100,000 and
1,000,000 cases (time, ratio to the floor, peak memory), and 20 concurrent uploads.

    .venv/bin/python bench/ingest.py [--cases 100000] [--big 1000000] [--repeat 3]
        [--uploads 20] [--upload-cases 20000]

Concurrent uploads are 20 processes calling the importer the API calls (run_import with the
report on disk, as Django hands a big upload over): each process is one upload, so its peak
RSS is the per-upload figure, without a web server's own workers mixed in.

Uses PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/stageloop_bench_ingest).
Prints times, results/s, peak memory of the import process, and the ratio to the physical limit:
parsing the same file and COPYing the same rows into a bare table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "stageloop_bench_ingest"
JEST = ROOT / "tests" / "data" / "junit" / "jest-monorepo.xml"


def synthetic_report(path: Path, cases: int) -> None:
    """Write a report of `cases` tests: 3 % failures with varied messages, output on some."""
    rng = random.Random(1)
    with path.open("w") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="synthetic">\n')
        per_suite = 500
        for s in range(0, cases, per_suite):
            out.write(f'<testsuite name="pkg.module_{s // per_suite}" tests="{per_suite}">\n')
            for i in range(s, min(s + per_suite, cases)):
                t = f"{rng.random() * 2:.3f}"
                out.write(
                    f'<testcase classname="pkg.module_{s // per_suite}.TestThing" '
                    f'name="test_case_{i}[param-{i % 7}]" time="{t}"'
                )
                roll = rng.random()
                if roll < 0.03:
                    out.write(
                        f'><failure message="AssertionError: expected 200, got {500 + i % 4}'
                        f' from 10.0.{i % 255}.3:8080">Traceback (most recent call last):\n'
                        f'  File "test_{i}.py", line {i % 300}\nAssertionError</failure>'
                        "</testcase>\n"
                    )
                elif roll < 0.05:
                    out.write('><skipped message="not on staging"/></testcase>\n')
                elif roll < 0.08:
                    out.write(f"><system-out>request id {i} ok</system-out></testcase>\n")
                else:
                    out.write("/>\n")
            out.write("</testsuite>\n")
        out.write("</testsuites>\n")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _setup(*, migrate: bool = False) -> str:
    """Django for the bench database; the parent migrates it once, so the import processes
    start like a web worker (no migration loaded) and their RSS is the importer's."""
    # The 1,000,000-case report is over the 50 MB default limit for one file.
    os.environ.setdefault("STAGELOOP_INGEST_MAX_BYTES", str(2 * 10**9))
    if migrate:
        from bench._django import setup

        return setup("stageloop_bench_ingest")
    url = os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("STAGELOOP_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    return url


def phase_import(path: str, label: str, again: str = "") -> dict:
    """Import `path` into a new suite (the first import), and with `again` import that file,
    the same report under another hash, into the same suite (every test known)."""
    _setup()
    from runs.models import Service, Suite
    from runs.services import ingest
    from runs.services.ingest import ReportFile, run_import

    if os.environ.get("BENCH_NO_TALLIES"):  # --tallies-cost: without the summary's counts
        from django.db import connection

        from runs.services import read_models

        def latest_only(*, run) -> None:  # CaseLatest as before CaseBehind
            with connection.cursor() as cursor:
                cursor.execute(read_models._LATEST_UPSERT, [run.suite_id, run.created_at, run.pk])

        ingest.tallies_fold_run = lambda **kwargs: None
        ingest.case_latest_update = latest_only

    service, _ = Service.objects.get_or_create(name="bench")
    suite = Suite.objects.create(service=service, name=f"{label}-{time.time_ns()}")
    before = _rss_mb()
    started = time.perf_counter()
    # By path, as the doors pass a big upload Django spooled to disk.
    result = run_import(suite=suite, files=[ReportFile(name=Path(path).name, path=path)])
    elapsed = time.perf_counter() - started
    first_peak = _rss_mb()
    # The task the import sends on commit (runs.services.case_search): off the import's path,
    # timed apart so the cost it moved is printed too.
    from runs.services.case_search import case_search_index

    started = time.perf_counter()
    case_search_index(suite_id=suite.pk)
    indexing = time.perf_counter() - started
    out = {
        "results": result.run.total,
        "seconds": elapsed,
        "search_index_seconds": indexing,
        "rss_before_mb": before,
        "peak_rss_mb": first_peak,
        "load": _load(),
    }
    if again:
        started = time.perf_counter()
        run_import(suite=suite, files=[ReportFile(name=Path(again).name, path=again)])
        out["seconds_existing_cases"] = time.perf_counter() - started
        out["peak_rss_again_mb"] = _rss_mb()
    return out


def phase_limit(path: str) -> dict:
    """Parse the file as it streams and COPY the same rows into a bare table, in the COPY text
    format the importer writes: the floor for the importer."""
    url = _setup()
    import psycopg

    from engine.junit import ReportCases
    from runs.services.bulk import copy_text as text

    started = time.perf_counter()
    n = 0
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        conn.execute(
            "CREATE TEMP TABLE bare (run_id bigint, case_key text, outcome text, duration float,"
            " message text, details text, output text, attempts int, flaky bool)"
        )
        with conn.cursor().copy(
            "COPY bare (run_id, case_key, outcome, duration, message, details, output, attempts,"
            " flaky) FROM STDIN"
        ) as copy:
            chunk: list[str] = []
            for c in ReportCases(path, max_bytes=10**10):
                n += 1
                chunk.append(
                    f"1\t{text(c.key)}\t{c.outcome}\t{c.duration!r}\t{text(c.message)}\t"
                    f"{text(c.details)}\t{text(c.output)}\t{c.attempts}\t"
                    f"{'t' if c.flaky else 'f'}\n"
                )
                if len(chunk) == 5000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
        conn.commit()
    return {
        "results": n,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": _rss_mb(),
        "load": _load(),
    }


def _child(phase: str, *args: str, env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _concurrent(path: str, uploads: int) -> tuple[list[dict], float]:
    """`uploads` import processes started at once, each into its own new suite."""
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--phase", "import", path, f"concurrent{i}"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(uploads)
    ]
    outs = []
    for proc in procs:
        stdout, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"a concurrent import failed (exit {proc.returncode})")
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outs, time.perf_counter() - started


def _report_file(cases: int) -> tuple[Path, Path]:
    """The synthetic report of `cases` under var/bench (written once), and a copy of it that
    hashes differently (for the import into a suite that knows its tests)."""
    synthetic = ROOT / "var" / "bench" / f"synthetic-{cases}.xml"
    synthetic.parent.mkdir(parents=True, exist_ok=True)
    if not synthetic.exists():
        synthetic_report(synthetic, cases)
    return synthetic, _again_file(synthetic)


def _again_file(synthetic: Path) -> Path:
    """A copy of a report with an attribute added to its root: the same tests, another hash
    (the same bytes again would return the first run)."""
    again = ROOT / "var" / "bench" / f"{synthetic.stem}-again.xml"
    again.parent.mkdir(parents=True, exist_ok=True)
    if not again.exists():
        with synthetic.open("rb") as src, again.open("wb") as out:
            out.write(src.readline())
            out.write(src.readline().replace(b"<testsuites", b"<testsuites x='2'", 1))
            while chunk := src.read(1 << 20):
                out.write(chunk)
    return again


def _capabilities(count: int) -> None:
    """Save `count` capabilities over the synthetic tests (names test_<n>_<topic>), unless the
    database has as many already."""
    from reports.models import Capability
    from reports.services.capability_cases import capability_save

    for n in range(Capability.objects.count(), count):
        patterns = "*" if n == 0 else f"name:*param-{n % 7}]"
        capability_save(capability=Capability(name=f"bench {n}", patterns=patterns))


def _tallies_cost(cases: int, repeat: int) -> None:
    """The import of a report whose tests are known and mapped, with the summary's read models
    kept at ingest (reports.CapabilityTally's fold, runs.CaseBehind) and without them
    (interleaved), so their share of an import is printed."""
    synthetic, again = _report_file(cases)
    by: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(repeat):
        for mode in by:
            env = {"BENCH_NO_TALLIES": "1"} if mode == "without" else {}
            out = _child("import", str(synthetic), "tallies", str(again), env=env)
            by[mode].append(out["seconds_existing_cases"])
    with_, without = (statistics.median(by[m]) for m in ("with", "without"))
    print(
        f"import of {cases:,} known, mapped tests: {with_:.2f} s with the tallies and "
        f"CaseBehind, {without:.2f} s without (median of {repeat}): {with_ - without:+.2f} s "
        f"= {(with_ / without - 1) * 100:+.0f} % [{_load()}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=1_000_000, help="cases of the memory run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--uploads", type=int, default=20, help="concurrent import processes")
    parser.add_argument("--upload-cases", type=int, default=20_000)
    parser.add_argument(
        "--capabilities",
        type=int,
        default=0,
        help="capabilities to save first (each maps a seventh of the synthetic tests, the "
        "first all of them): their read models are written at ingest",
    )
    parser.add_argument(
        "--tallies-cost",
        action="store_true",
        help="only time the import of known tests with and without the summary's tallies and "
        "CaseBehind",
    )
    parser.add_argument("--phase", default="")
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()
    if opts.phase == "import":
        print(json.dumps(phase_import(*opts.args)))
        return
    if opts.phase == "limit":
        print(json.dumps(phase_limit(*opts.args)))
        return

    def median(key: str, runs: list[dict]) -> float:
        return statistics.median(r[key] for r in runs)

    _setup(migrate=True)
    _capabilities(opts.capabilities)
    if opts.tallies_cost:
        _tallies_cost(opts.cases, opts.repeat)
        return
    jest_again = str(_again_file(JEST))
    jests = [_child("import", str(JEST), "jest", jest_again) for _ in range(opts.repeat)]
    print(
        f"jest-monorepo.xml: {jests[0]['results']} results imported end to end, median of "
        f"{opts.repeat}: {median('seconds', jests):.3f} s (target < 1 s); again with existing "
        f"cases {median('seconds_existing_cases', jests):.3f} s [{jests[-1]['load']}]"
    )
    for cases in dict.fromkeys([opts.cases, opts.big]):
        synthetic, again = _report_file(cases)
        size_mb = synthetic.stat().st_size / 1e6
        repeat = opts.repeat if cases == opts.cases else 1
        bigs, limits = [], []
        for _ in range(repeat):  # interleaved, so both see the same machine load
            bigs.append(_child("import", str(synthetic), "synthetic", str(again)))
            limits.append(_child("limit", str(synthetic)))
        n = bigs[0]["results"]
        first = median("seconds", bigs)
        known = median("seconds_existing_cases", bigs)
        floor = median("seconds", limits)
        peak = max(max(b["peak_rss_mb"], b["peak_rss_again_mb"]) for b in bigs)
        print(f"synthetic report: {n:,} cases, {size_mb:.1f} MB; medians of {repeat} runs")
        firsts = ", ".join(f"{n / b['seconds']:,.0f}" for b in bigs)
        print(
            f"  first import into a new suite: {first:.2f} s = {n / first:,.0f} results/s "
            f"(runs: {firsts}; target > 50,000) [{bigs[-1]['load']}]"
        )
        print(
            f"  then the search indexing task it sends (after the commit, not counted above): "
            f"{median('search_index_seconds', bigs):.2f} s"
        )
        print(
            f"  import into a suite that knows its tests: {known:.2f} s = {n / known:,.0f} "
            f"results/s"
        )
        print(
            f"  floor (streaming parse + COPY text into a bare table): {floor:.2f} s = "
            f"{n / floor:,.0f} rows/s, peak {max(x['peak_rss_mb'] for x in limits):.0f} MB "
            f"[{limits[-1]['load']}]"
        )
        print(
            f"  ratio importer / floor: {first / floor:.2f}x first import (target <= 2x), "
            f"{known / floor:.2f}x known tests"
        )
        print(
            f"  peak memory of the import process: {peak:.0f} MB (target < 120 MB; "
            f"{bigs[0]['rss_before_mb']:.0f} MB before importing, Django set up)"
        )
    if opts.uploads:
        synthetic, _ = _report_file(opts.upload_cases)
        outs, wall = _concurrent(str(synthetic), opts.uploads)
        total = sum(o["results"] for o in outs)
        peaks = sorted(o["peak_rss_mb"] for o in outs)
        print(
            f"{opts.uploads} concurrent uploads of {opts.upload_cases:,} cases (one process each, "
            f"each into a new suite): {total:,} results in {wall:.1f} s = {total / wall:,.0f} "
            f"results/s in total; per-process peak RSS {peaks[0]:.0f}-{peaks[-1]:.0f} MB "
            f"(median {statistics.median(peaks):.0f}; target < 120 MB) [{_load()}]"
        )


if __name__ == "__main__":
    main()
