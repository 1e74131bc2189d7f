"""Set up Django for a bench script against its own PostgreSQL database (created and migrated)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def setup(default_db: str) -> str:
    """Use DATABASE_URL or `default_db`: create that database, migrate, set up Django."""
    sys.path.insert(0, str(ROOT))
    url = os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{default_db}")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    os.environ.setdefault("STAGELOOP_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        name = parts.path.lstrip("/")
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return url
