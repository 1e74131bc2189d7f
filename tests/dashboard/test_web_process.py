"""The web process, as gunicorn loads it: what it does once the application is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_wsgi_application_imports_the_views_and_freezes_what_it_loaded(tmp_path):
    script = (
        "import gc, sys; import dashboard.wsgi; "
        "print(gc.get_freeze_count(), 'runs.views.pages' in sys.modules)"
    )
    env = {**os.environ, "DEBUG": "1", "STAGELOOP_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    frozen, views_loaded = done.stdout.split()
    assert views_loaded == "True"
    assert int(frozen) > 10_000  # the framework's objects, out of the collector's reach
