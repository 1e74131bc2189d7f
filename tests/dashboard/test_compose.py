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


def test_app_services_run_the_modules_the_tests_use():
    assert "gunicorn dashboard.wsgi:application" in _command("web")
    assert "migrate" in _command("web")
    assert _command("worker").startswith("celery -A dashboard worker")
    assert _command("beat").startswith("celery -A dashboard beat")
    procfile = (ROOT / "Procfile").read_text()
    assert "celery -A dashboard worker" in procfile
    assert "celery -A dashboard beat" in procfile


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
    assert "dashboard.wsgi:application" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
