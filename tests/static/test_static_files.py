"""Production static files: hashed names from collectstatic's manifest, served by WhiteNoise with
far-future immutable caching; the charts load the vendored partial plotly.js bundle."""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import plotly
import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.test import Client, override_settings
from plotly.offline import get_plotlyjs_version
from whitenoise.compress import Compressor

from dashboard.static_files import static_manifest_check

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = "dashboard.static_files.StaticFilesStorage"
TEN_YEARS = "max-age=315360000, public, immutable"
BUNDLE = f"vendor/plotly-basic-{get_plotlyjs_version()}.min.js"
# A hashed name: "css/stageloop.css" collected as "css/stageloop.0123456789ab.css".
HASHED = re.compile(r"^/static/(?P<stem>.+)\.[0-9a-f]{12}(?P<ext>\.[a-z]+)$")
STATIC_TAG = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


def _production(static_root: Path):
    # Compressing the JavaScript (1.7 MB of it) is WhiteNoise's job, not ours; skip it for speed.
    skip = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "js", "map")
    return override_settings(
        STATIC_ROOT=static_root,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": PRODUCTION},
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
        WHITENOISE_SKIP_COMPRESS_EXTENSIONS=skip,
    )


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Iterator[Path]:
    """The production storage, after `collectstatic` into a fresh STATIC_ROOT."""
    static_root = tmp_path_factory.mktemp("staticfiles")
    with _production(static_root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield static_root


def test_production_pages_link_static_files_by_their_hashed_names(collected, db):
    page = Client().get("/login/")

    assert page.status_code == 200
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
    assert any(link.startswith("/static/css/stageloop.") for link in links)
    assert links and all(HASHED.match(link) for link in links), links


def test_the_charts_load_the_vendored_basic_bundle_of_the_plotly_js_that_builds_the_figures(
    collected,
):
    scripts = re.findall(r'src="([^"]+)"', render_to_string("runs/_chart_scripts.html"))

    bundle = HASHED.match(scripts[0])
    assert bundle and bundle["stem"] + bundle["ext"] == BUNDLE
    assert HASHED.match(scripts[1])["stem"] == "js/charts"
    header = (collected / BUNDLE).read_text()[:200]
    assert f"plotly.js (basic - minified) v{get_plotlyjs_version()}" in header


def test_the_full_plotly_bundle_is_no_longer_served(collected):
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert full.is_file()  # the Python package still ships it; we do not serve it

    assert finders.find("plotly/plotly.min.js") is None
    assert not any(name.startswith("plotly") for name in os.listdir(collected))
    assert Client().get("/static/plotly/plotly.min.js").status_code == 404


def test_a_hashed_file_is_cached_for_ten_years_and_never_revalidated(collected):
    client = Client()
    for name in (BUNDLE, "css/stageloop.css"):
        answer = client.get(static(name), headers={"accept-encoding": "gzip"})

        assert answer.status_code == 200, name
        assert answer["Cache-Control"] == TEN_YEARS, name
    css = b"".join(answer.streaming_content)
    assert answer["Content-Encoding"] == "gzip"
    assert gzip.decompress(css) == (collected / "css" / "stageloop.css").read_bytes()


def test_an_unhashed_name_is_cached_for_a_minute_only(collected):
    answer = Client().get("/static/css/stageloop.css")

    assert answer.status_code == 200
    assert answer["Cache-Control"] == "max-age=60, public"


def test_every_static_file_a_template_names_is_in_the_manifest(collected):
    named = {
        name
        for template in (ROOT / "templates").rglob("*.html")
        for name in STATIC_TAG.findall(template.read_text())
    }

    assert BUNDLE in named and "css/stageloop.css" in named
    for name in sorted(named):
        assert HASHED.match(static(name)), name


def test_a_name_missing_from_the_manifest_is_linked_plain_and_logged_once(collected, caplog):
    with caplog.at_level(logging.ERROR, logger="dashboard.static_files"):
        first, again = static("js/nope.js"), static("js/nope.js")

    assert first == again == "/static/js/nope.js"
    assert len(caplog.records) == 1
    assert "'js/nope.js' is not in" in caplog.records[0].getMessage()
    assert "collectstatic --no-input" in caplog.records[0].getMessage()


def test_a_page_naming_a_file_the_manifest_lacks_still_answers(collected, tmp_path, db, caplog):
    manifest = json.loads((collected / "staticfiles.json").read_text())
    del manifest["paths"]["css/stageloop.css"]
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "staticfiles.json").write_text(json.dumps(manifest))

    with _production(stale), caplog.at_level(logging.ERROR, logger="dashboard.static_files"):
        page = Client().get("/login/")

    assert page.status_code == 200
    assert 'href="/static/css/stageloop.css"' in page.text
    assert re.search(r'src="/static/vendor/htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js"', page.text)
    assert any("'css/stageloop.css' is not in" in r.getMessage() for r in caplog.records)


def test_the_start_check_reports_static_files_never_collected(tmp_path, caplog):
    with _production(tmp_path), caplog.at_level(logging.ERROR, logger="dashboard.static_files"):
        problem = static_manifest_check()

    assert problem and problem.startswith("Static files are not collected")
    assert [r.getMessage() for r in caplog.records] == [problem]


def test_the_start_check_reports_files_the_manifest_lacks(tmp_path):
    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": ""}')
    with _production(tmp_path):
        problem = static_manifest_check()

    assert problem and problem.startswith("Collected static files are out of date")
    assert "collectstatic --no-input" in problem


def test_the_start_check_passes_once_static_files_are_collected(collected, caplog):
    with caplog.at_level(logging.ERROR, logger="dashboard.static_files"):
        assert static_manifest_check() is None
    assert caplog.records == []


def _start(tmp_path: Path, debug: str, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(
        DEBUG=debug,
        SECRET_KEY="static-test-secret",
        STAGELOOP_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="dashboard.settings",
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_wsgi_says_at_start_that_static_files_are_not_collected(tmp_path):
    production = _start(tmp_path, "0", "import dashboard.wsgi")

    assert production.returncode == 0, production.stderr
    assert "ERROR dashboard.static_files Static files are not collected" in production.stderr


def test_development_serves_unhashed_names_without_collectstatic(tmp_path):
    code = (
        "import dashboard.wsgi; from django.templatetags.static import static; "
        "print(static('vendor/htmx-2.0.11.min.js'))"
    )
    development = _start(tmp_path, "1", code)

    assert development.returncode == 0, development.stderr
    assert "ERROR" not in development.stderr
    assert development.stdout.strip() == "/static/vendor/htmx-2.0.11.min.js"
    assert not (tmp_path / "staticfiles" / "staticfiles.json").exists()
