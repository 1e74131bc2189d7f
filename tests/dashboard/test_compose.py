"""docker-compose.yml runs exactly what the tests test (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _command(name: str) -> str:
    command = SERVICES[name]["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_has_the_five_services():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}


def test_web_worker_and_beat_run_one_image():
    images = {SERVICES[name]["image"] for name in ("web", "worker", "beat")}
    builds = {SERVICES[name]["build"] for name in ("web", "worker", "beat")}

    assert images == {"stageloop:latest"}
    assert builds == {"."}


def test_app_services_run_the_production_commands_that_make_serve_runs():
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile.production").read_text().splitlines()
    )

    assert {name: _command(name) for name in ("web", "worker", "beat")} == procfile
    assert "gunicorn dashboard.wsgi:application" in (ROOT / "bin" / "web").read_text()
    assert "migrate --no-input" in (ROOT / "bin" / "web").read_text()
    assert "celery -A dashboard worker" in (ROOT / "bin" / "worker").read_text()
    assert "celery -A dashboard beat" in (ROOT / "bin" / "beat").read_text()
    assert "Procfile.production" in (ROOT / "Makefile").read_text()


def test_the_demo_never_reaches_production():
    for path in ("docker-compose.yml", "Dockerfile", "Procfile.production", "bin/web"):
        text = (ROOT / path).read_text()
        assert "seed_demo" not in text and "stageloop-demo" not in text, path


def test_postgres_and_redis_have_health_checks_the_app_waits_on():
    for name in ("postgres", "redis"):
        assert SERVICES[name]["healthcheck"]["test"]
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_app_services_point_at_postgres_and_redis_and_refuse_a_missing_secret():
    env = SERVICES["worker"]["environment"]

    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
    assert env["DEBUG"] == "0"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_the_dockerfile_serves_the_wsgi_module():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11" in dockerfile
    assert 'CMD ["bin/web"]' in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
