"""Ingest benchmark: jest-monorepo.xml end to end, and a synthetic 100,000-case report.

    .venv/bin/python bench/ingest.py [--cases 100000] [--repeat 3]

Uses PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/stageloop_bench_ingest).
Prints times, results/s, peak memory of the import process, and the ratio to the physical limit:
parsing the same file and COPYing the same rows into a bare table.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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


def phase_import(path: str, label: str) -> dict:
    from bench._django import setup

    setup("stageloop_bench_ingest")
    from runs.models import Service, Suite
    from runs.services.ingest import ReportFile, run_import

    service, _ = Service.objects.get_or_create(name="bench")
    suite = Suite.objects.create(service=service, name=f"{label}-{time.time_ns()}")
    data = Path(path).read_bytes()
    started = time.perf_counter()
    result = run_import(suite=suite, files=[ReportFile(name=Path(path).name, data=data)])
    elapsed = time.perf_counter() - started
    # A second import of the same suite: every TestCase already exists (the common case in CI).
    data2 = data.replace(b"<testsuites", b"<testsuites x='2'", 1)
    started = time.perf_counter()
    run_import(suite=suite, files=[ReportFile(name=Path(path).name, data=data2)])
    again = time.perf_counter() - started
    return {
        "results": result.run.total,
        "seconds": elapsed,
        "seconds_existing_cases": again,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def phase_limit(path: str) -> dict:
    """Parse the file and COPY the same rows into a bare table: the floor for the importer."""
    from bench._django import setup

    url = setup("stageloop_bench_ingest")
    import psycopg

    from engine.junit import parse_report

    started = time.perf_counter()
    report = parse_report(Path(path).read_bytes(), max_bytes=10**9)
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        conn.execute(
            "CREATE TEMP TABLE bare (run_id bigint, case_key text, outcome text, duration float,"
            " message text, details text, output text, attempts int, flaky bool)"
        )
        with conn.cursor().copy(
            "COPY bare (run_id, case_key, outcome, duration, message, details, output, attempts,"
            " flaky) FROM STDIN"
        ) as copy:
            for c in report.cases:
                copy.write_row(
                    (
                        1,
                        c.key,
                        c.outcome,
                        c.duration,
                        c.message,
                        c.details,
                        c.output,
                        c.attempts,
                        c.flaky,
                    )
                )
        conn.commit()
    return {"results": len(report.cases), "seconds": time.perf_counter() - started}


def _child(phase: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
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

    jests = [_child("import", str(JEST), "jest") for _ in range(opts.repeat)]
    print(
        f"jest-monorepo.xml: {jests[0]['results']} results imported end to end, median of "
        f"{opts.repeat}: {median('seconds', jests):.3f} s (target < 1 s); again with existing "
        f"cases {median('seconds_existing_cases', jests):.3f} s"
    )
    synthetic = ROOT / "var" / "bench" / f"synthetic-{opts.cases}.xml"
    synthetic.parent.mkdir(parents=True, exist_ok=True)
    if not synthetic.exists():
        synthetic_report(synthetic, opts.cases)
    size_mb = synthetic.stat().st_size / 1e6
    bigs = [_child("import", str(synthetic), "synthetic") for _ in range(opts.repeat)]
    limits = [_child("limit", str(synthetic)) for _ in range(opts.repeat)]
    n = bigs[0]["results"]
    first = median("seconds", bigs)
    again = median("seconds_existing_cases", bigs)
    floor = median("seconds", limits)
    print(f"synthetic report: {n} cases, {size_mb:.1f} MB; medians of {opts.repeat} runs")
    firsts = ", ".join(f"{n / b['seconds']:,.0f}" for b in bigs)
    agains = ", ".join(f"{n / b['seconds_existing_cases']:,.0f}" for b in bigs)
    print(
        f"  first import into a new suite: {first:.2f} s = {n / first:,.0f} results/s "
        f"(runs: {firsts}; target > 50,000)"
    )
    print(
        f"  import into a suite that knows its tests: {again:.2f} s = {n / again:,.0f} "
        f"results/s (runs: {agains})"
    )
    print(
        f"  peak memory of the import process: {max(b['peak_rss_mb'] for b in bigs):.0f} MB "
        f"(file {size_mb:.1f} MB; all parsed cases are held until written)"
    )
    print(
        f"  physical limit (parse + COPY into a bare table): {floor:.2f} s = "
        f"{n / floor:,.0f} rows/s"
    )
    print(
        f"  ratio importer / limit: {first / floor:.2f}x (first import), "
        f"{again / floor:.2f}x (known tests)"
    )


if __name__ == "__main__":
    main()
