"""Benchmark: every page in Chromium, served by a production gunicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stageloop_bench_browser \\
        .venv/bin/python bench/browser.py [--repeat 5] [--runs 2000] [--tests 200]

The database (default: the URL above; its name must contain "bench") is dropped and created, then
seeded with the world of the page tests (tests/pages/inventory.py: the demo plus the longest names
and messages) and a `seed_history` suite of --runs x --tests results, whose pages are measured too.
Static files are collected with production settings into a temporary STATIC_ROOT and bin/web
starts gunicorn on them (DEBUG=0, its own command line and worker count). Chromium (the system
one) logs in as the demo's admin (who may open every page) through the login form and opens
every page: cold (a fresh context, empty cache) and warm (the same context, second navigation),
--repeat times each, and a third navigation (a returning user's: V8 reuses compiled scripts
from the third run). It prints, per page, p50/p95 of DOMContentLoaded and of "loaded"
(DOMContentLoaded and, on pages with charts, every chart drawn: charts.js's "charts-drawn" mark),
the JS/CSS bytes transferred cold, then the worst page against the goals: warm < 300 ms, cold
< 1.5 s, and any page that refused the user.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The demo's admin sees every page: a Viewer was refused (403) the summary, capabilities,
# evidence, edit and settings pages, which measured a refusal instead of the page.
USER = "admin"
WARM_GOAL_MS = 300.0
COLD_GOAL_MS = 1500.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECRET = "bench-browser-only-secret-key-" + "x" * 40
# Each figure of one navigation, read from the page once it has loaded (and drawn its charts).
FIGURES_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const drawn = performance.getEntriesByName("charts-drawn")[0];
  const assets = performance.getEntriesByType("resource").filter(
    (r) => /\\.(js|css)$/.test(new URL(r.name).pathname));
  return {
    status: nav.responseStatus || 0,
    server: nav.responseStart - nav.requestStart,
    dcl: nav.domContentLoadedEventEnd,
    charts: drawn ? drawn.startTime : null,
    figures: document.querySelectorAll(".js-plotly-plot").length,
    assetBytes: assets.reduce((sum, r) => sum + r.transferSize, 0),
    assetsFetched: assets.filter((r) => r.transferSize > 0).length,
    assets: assets.length,
  };
}"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres") or "bench" not in name:
        sys.exit(f"bench/browser.py drops and recreates its database: {url} is not a bench one.")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def seed(runs: int, tests: int) -> dict[str, str]:
    """The page tests' world plus a seeded suite; returns page name -> path."""
    from bench.pages import page_urls
    from demo.seed.history import history_seed
    from tests.pages.inventory import seed_world

    began = time.perf_counter()
    pages = seed_world()
    made = history_seed(runs=runs, tests=tests, service_name="seeded-web", suite_name="e2e")
    seeded = page_urls("seeded-web", "e2e")
    for name in ("service", "suite", "run", "test", "revision", "compare runs"):
        pages[f"{name} ({runs} runs)"] = seeded[name]
    pages[f"health ({runs} runs)"] = "/services/seeded-web/health/"
    took = time.perf_counter() - began
    print(f"Seeded the page tests' world and {made.results:,} results in {took:.0f} s.")
    return pages


def collect_static(env: dict[str, str]) -> None:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    print(f"collectstatic (production settings) took {time.perf_counter() - began:.0f} s.")


def start_web(env: dict[str, str], base: str, log: Path) -> subprocess.Popen:
    """bin/web as `make serve` runs it: migrate, then gunicorn with its own options."""
    with log.open("wb") as out:
        web = subprocess.Popen(
            [str(ROOT / "bin" / "web")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if web.poll() is not None:
            sys.exit(f"bin/web exited with {web.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/login/", timeout=2).status_code == 200:
                return web
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_web(web)
    sys.exit(f"gunicorn did not answer within 120 s:\n{log.read_text()[-3000:]}")


def stop_web(web: subprocess.Popen) -> None:
    os.killpg(web.pid, signal.SIGTERM)
    try:
        web.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(web.pid, signal.SIGKILL)
        web.wait()


def measure(page, url: str) -> dict:
    page.goto(url, wait_until="domcontentloaded")
    if page.locator('script[src*="/js/charts."]').count():
        page.wait_for_function("document.documentElement.dataset.chartsDrawn === '1'")
    figures = page.evaluate(FIGURES_JS)
    figures["loaded"] = max(figures["dcl"], figures["charts"] or 0)
    return figures


def browse(base: str, pages: dict[str, str], repeat: int, password: str) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        context = browser.new_context()
        login = context.new_page()
        login.goto(f"{base}/login/")
        login.fill("#id_username", USER)
        login.fill("#id_password", password)
        login.click("button[type=submit]")
        login.wait_for_url(f"{base}/")
        logged_in = context.storage_state()
        context.close()

        for name, path in pages.items():
            cold, warm, again = [], [], []
            for _ in range(repeat):
                # a fresh context has an empty cache; "login" is opened logged out
                state = None if name == "login" else logged_in
                context = browser.new_context(storage_state=state)
                page = context.new_page()
                cold.append(measure(page, base + path))
                warm.append(measure(page, base + path))
                # A returning user's visit: Chromium keeps V8's compiled code of a script only
                # from its second run on, so the third load is the first to skip compiling it.
                again.append(measure(page, base + path))
                context.close()
            results[name] = {"path": path, "cold": cold, "warm": warm, "again": again}
            print(".", end="", flush=True)
        browser.close()
    print()
    return results


def report(results: dict[str, dict], repeat: int) -> None:
    def p(samples: list[dict], key: str, q: float) -> float:
        return _percentile([s[key] for s in samples], q)

    print(
        f"\n{'page':<28}{'status':>7}{'charts':>7}{'server':>8}"
        f"{'cold DCL p50/p95':>19}{'cold loaded p50/p95':>22}"
        f"{'warm DCL p50/p95':>19}{'warm loaded p50/p95':>22}{'3rd loaded p50/p95':>21}"
        f"{'JS+CSS cold':>13}{'warm fetch':>11}"
    )
    for name, r in results.items():
        cold, warm = r["cold"], r["warm"]
        print(
            f"{name:<28}{cold[0]['status']:>7}{cold[0]['figures']:>7}"
            f"{statistics.median(s['server'] for s in cold + warm):>6.0f}ms"
            f"{p(cold, 'dcl', 0.5):>10.0f} /{p(cold, 'dcl', 0.95):>5.0f} ms"
            f"{p(cold, 'loaded', 0.5):>13.0f} /{p(cold, 'loaded', 0.95):>5.0f} ms"
            f"{p(warm, 'dcl', 0.5):>10.0f} /{p(warm, 'dcl', 0.95):>5.0f} ms"
            f"{p(warm, 'loaded', 0.5):>13.0f} /{p(warm, 'loaded', 0.95):>5.0f} ms"
            f"{p(r['again'], 'loaded', 0.5):>12.0f} /{p(r['again'], 'loaded', 0.95):>5.0f} ms"
            f"{max(s['assetBytes'] for s in cold):>11,} B"
            f"{max(s['assetsFetched'] for s in warm):>4} of {warm[0]['assets']}"
        )
    worst_cold = max(results, key=lambda n: p(results[n]["cold"], "loaded", 0.95))
    worst_warm = max(results, key=lambda n: p(results[n]["warm"], "loaded", 0.95))
    cold_ms = p(results[worst_cold]["cold"], "loaded", 0.95)
    warm_ms = p(results[worst_warm]["warm"], "loaded", 0.95)
    worst_again = max(results, key=lambda n: p(results[n]["again"], "loaded", 0.95))
    again_ms = p(results[worst_again]["again"], "loaded", 0.95)
    heaviest = max(max(s["assetBytes"] for s in r["cold"]) for r in results.values())
    print(
        f"\n{len(results)} pages, {repeat} cold + {repeat} warm loads each; "
        f"loaded = DOMContentLoaded and every chart drawn."
    )
    print(
        f"Worst cold p95: {cold_ms:.0f} ms ({worst_cold}); goal {COLD_GOAL_MS:.0f} ms, "
        f"ratio {cold_ms / COLD_GOAL_MS:.2f} ({'met' if cold_ms < COLD_GOAL_MS else 'MISSED'})."
    )
    print(
        f"Worst warm p95: {warm_ms:.0f} ms ({worst_warm}); goal {WARM_GOAL_MS:.0f} ms, "
        f"ratio {warm_ms / WARM_GOAL_MS:.2f} ({'met' if warm_ms < WARM_GOAL_MS else 'MISSED'})."
    )
    print(
        f"Worst third-load p95 (a returning user's, compiled scripts reused): {again_ms:.0f} ms "
        f"({worst_again}); against the warm goal, ratio {again_ms / WARM_GOAL_MS:.2f}."
    )
    print(f"Most JS+CSS bytes transferred by one cold page load: {heaviest:,} B.")
    refused = [n for n, r in results.items() if r["cold"][0]["status"] in (401, 403)]
    if refused:
        print(f"Refused to {USER} (measured a refusal, not the page): {', '.join(refused)}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=2000, help="runs of the seeded suite")
    parser.add_argument("--tests", type=int, default=200, help="tests of the seeded suite")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    args = parser.parse_args()

    url = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stageloop_bench_browser"
    )
    print(f"Start: {_load()}")
    fresh_database(url)
    var = Path(tempfile.mkdtemp(prefix="stageloop-bench-browser-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    production = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
        "STAGELOOP_VAR_DIR": str(var),
        "STAGELOOP_BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    web = None
    try:
        # Seeding runs in this process (development settings: seed_demo's known password).
        os.environ.update(DATABASE_URL=url, STAGELOOP_VAR_DIR=str(var / "seed"))
        from bench._django import setup

        setup("unused")
        from tests.conftest import PASSWORD

        pages = seed(args.runs, args.tests)
        from django.db import connection

        connection.close()
        collect_static(production)
        web = start_web(production, base, var / "web.log")
        workers = os.environ.get("WEB_CONCURRENCY", "3")
        print(f"gunicorn (bin/web, {workers} workers, DEBUG=0) on {base}; {_load()}")
        results = browse(base, pages, args.repeat, PASSWORD)
    finally:
        if web is not None:
            stop_web(web)
        shutil.rmtree(var, ignore_errors=True)
        if not args.keep:
            drop_database(url)
    report(results, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(f"End: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
