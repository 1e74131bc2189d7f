"""Stageloop settings, read from the environment (see README: "Environment variables").

Embedded mode (the default) needs no server: an SQLite file and kombu's filesystem broker
under var/.
Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from dashboard.env import env_bool, env_int, env_list, env_origins, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STAGELOOP_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# DEBUG=1 (what `make run` sets) turns on the development defaults below. Django's own DEBUG
# stays off in every mode: its technical error pages would show settings and source to whoever
# reaches the port, and its debug console handler prints every django.* log line a second time.
# Errors are answered by dashboard/errors.py; tracebacks go to the log.
DEVELOPMENT = env_bool("DEBUG", False)
DEBUG = False

_DEV_SECRET = "django-insecure-development-only-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string, "
            "or set DEBUG=1 for local development only."
        )
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEVELOPMENT else [])
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "dashboard.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "axes",
    "accounts",
    "dashboard",
    "runs",
    "analyses",
    "demo",
    "health",
    "reports",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dashboard.uploads.UploadSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "runs.api.errors.ApiErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.middleware.PagesLoginRequiredMiddleware",
    # Re-checks a single sign-on session with the provider now and then (a no-op without it).
    "accounts.middleware.OidcSessionCheck",
    "dashboard.middleware.BadInputMiddleware",
    "dashboard.time_range.TimeRangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the page below.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"
ASGI_APPLICATION = "dashboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.time_range.time_range_context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'stageloop.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for a lock instead of failing at once, and take the
    # write lock at BEGIN so two writers never deadlock on an upgrade from a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: the planner overestimates set-returning functions (jsonb_each of latency sketches:
    # 100 rows guessed per call) and then spends seconds compiling queries that run in far less.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is refused for the cool-off time, even with the right password; other
# users and addresses are not affected. `manage.py axes_reset_username NAME` lifts a lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.LocalPasswordBackend",
    "accounts.backends.OidcBackend",
]
AXES_FAILURE_LIMIT = env_int("STAGELOOP_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("STAGELOOP_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Single sign-on (OpenID Connect; accounts/, README "Single sign-on") --------------------------
# Off unless STAGELOOP_OIDC_CLIENT_ID is set; then every URL below must be set too. The URLs are
# in the provider's discovery document (<issuer>/.well-known/openid-configuration).
OIDC_RP_CLIENT_ID = env_str("STAGELOOP_OIDC_CLIENT_ID", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env_str("STAGELOOP_OIDC_CLIENT_SECRET", "")
OIDC_PROVIDER_NAME = env_str("STAGELOOP_OIDC_PROVIDER_NAME", "single sign-on")
_OIDC_URL_SCHEMES = ("https", "http")
OIDC_ISSUER = env_url("STAGELOOP_OIDC_ISSUER", "", schemes=_OIDC_URL_SCHEMES)
OIDC_OP_AUTHORIZATION_ENDPOINT = env_url(
    "STAGELOOP_OIDC_AUTHORIZATION_URL", "", schemes=_OIDC_URL_SCHEMES
)
OIDC_OP_TOKEN_ENDPOINT = env_url("STAGELOOP_OIDC_TOKEN_URL", "", schemes=_OIDC_URL_SCHEMES)
OIDC_OP_USER_ENDPOINT = env_url("STAGELOOP_OIDC_USERINFO_URL", "", schemes=_OIDC_URL_SCHEMES)
OIDC_OP_JWKS_ENDPOINT = env_url("STAGELOOP_OIDC_JWKS_URL", "", schemes=_OIDC_URL_SCHEMES)
if OIDC_ENABLED:
    _missing = [
        name
        for name, value in (
            ("STAGELOOP_OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET),
            ("STAGELOOP_OIDC_ISSUER", OIDC_ISSUER),
            ("STAGELOOP_OIDC_AUTHORIZATION_URL", OIDC_OP_AUTHORIZATION_ENDPOINT),
            ("STAGELOOP_OIDC_TOKEN_URL", OIDC_OP_TOKEN_ENDPOINT),
            ("STAGELOOP_OIDC_USERINFO_URL", OIDC_OP_USER_ENDPOINT),
            ("STAGELOOP_OIDC_JWKS_URL", OIDC_OP_JWKS_ENDPOINT),
        )
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"STAGELOOP_OIDC_CLIENT_ID is set, so single sign-on is on, but {', '.join(_missing)} "
            "is not set: set it (the provider's discovery document lists the URLs), or unset "
            "STAGELOOP_OIDC_CLIENT_ID."
        )
OIDC_RP_SIGN_ALGO = env_str("STAGELOOP_OIDC_SIGN_ALGO", "RS256")
if OIDC_RP_SIGN_ALGO not in ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512"):
    raise ImproperlyConfigured(
        f"STAGELOOP_OIDC_SIGN_ALGO={OIDC_RP_SIGN_ALGO!r} is not supported: use RS256 (the "
        "default), RS384, RS512, ES256, ES384 or ES512."
    )
OIDC_RP_SCOPES = env_str("STAGELOOP_OIDC_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("STAGELOOP_OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = env_str("STAGELOOP_OIDC_GROUPS_CLAIM", "groups")
# Which provider groups give which role; a user in none of them signs in with no role.
OIDC_ROLE_GROUPS = {
    role: env_list(f"STAGELOOP_OIDC_ROLE_{role.upper()}", [])
    for role in ("Viewer", "Operator", "Manager", "admin")
}
# A signed-in user's session is checked with the provider (roles re-read) this often.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env_int("STAGELOOP_OIDC_SESSION_CHECK_SECONDS", 900, minimum=0)
OIDC_CLOCK_LEEWAY = env_int("STAGELOOP_OIDC_CLOCK_LEEWAY_SECONDS", 60, minimum=0)
OIDC_TIMEOUT = env_int("STAGELOOP_OIDC_TIMEOUT", 10, minimum=1)
OIDC_USE_PKCE = True
OIDC_CREATE_USER = True
# STAGELOOP_LOCAL_LOGIN=0 refuses passwords (the login page and /admin/); admins keep a way in
# with `manage.py breakglass_login USERNAME`.
LOCAL_LOGIN_ENABLED = env_bool("STAGELOOP_LOCAL_LOGIN", True)
if not LOCAL_LOGIN_ENABLED and not OIDC_ENABLED:
    raise ImproperlyConfigured(
        "STAGELOOP_LOCAL_LOGIN=0 switches password sign-in off, but single sign-on is not "
        "configured (STAGELOOP_OIDC_CLIENT_ID), so nobody could sign in: configure it or "
        "leave password sign-in on."
    )

# --- I18N / static ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# Days (uptime bars, "today") follow this zone, daylight-saving changes included: an IANA name
# such as Europe/Berlin. STAGELOOP_TIME_ZONE wins over the older TIME_ZONE.
TIME_ZONE = env_str("STAGELOOP_TIME_ZONE", env_str("TIME_ZONE", "UTC"))
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
# plotly.js is the partial bundle vendored in static/vendor/ (see static/vendor/SOURCES.md).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Production links the names collectstatic hashed (staticfiles.json), which WhiteNoise serves
# as immutable for ten years; a plain name gets max-age 60. A name missing from the manifest is
# linked plain and logged, never a failed page (dashboard/static_files.py). Development serves
# the source files as they are, without collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEVELOPMENT
        else "dashboard.static_files.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
WHITENOISE_USE_FINDERS = DEVELOPMENT
WHITENOISE_AUTOREFRESH = DEVELOPMENT

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEVELOPMENT)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Cache --------------------------------------------------------------------------------------
# Page fragments (charts, the tables beside them) and the data generations that invalidate them
# (runs/page_cache.py). Production: CACHE_URL=redis://host:6379/1, one Redis every web worker and
# Celery worker shares (a db of its own: Django's cache.clear() empties the whole db).
# Without it: a file cache under STAGELOOP_VAR_DIR, which the embedded mode's web, worker and beat
# processes share (a local-memory cache is per process and would miss the worker's new runs).
CACHE_URL = env_url("CACHE_URL", "", schemes=("redis", "rediss"))
CACHES: dict[str, dict[str, Any]]
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "stageloop",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
# STAGELOOP_PAGE_CACHE=0 builds every fragment on every request (bench/load.py's uncached pass).
PAGE_CACHE = env_bool("STAGELOOP_PAGE_CACHE", True)
PAGE_CACHE_STATS = env_bool("STAGELOOP_PAGE_CACHE_STATS", False)

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", schemes=("filesystem", "redis", "rediss", "amqp")
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    # A task that is not acknowledged within this time is handed to another worker; it must be
    # longer than the longest task so acks_late does not run a healthy task twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}
CELERY_TASK_IGNORE_RESULT = True  # every task keeps its state in our own tables
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 3600
CELERY_TASK_TIME_LIMIT = 3660
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
HEARTBEAT_INTERVAL = env_int("STAGELOOP_HEARTBEAT_INTERVAL", 15, minimum=1)
# A worker holds each deploy and run it works on by a lease it renews; the sweeper marks a row
# whose lease ran out lost (its worker died) and frees the service: within LEASE + SWEEP seconds.
LEASE_SECONDS = env_int("STAGELOOP_LEASE_SECONDS", 30, minimum=2)
LEASE_RENEW_SECONDS = env_int("STAGELOOP_LEASE_RENEW_SECONDS", 10, minimum=1)
if LEASE_RENEW_SECONDS >= LEASE_SECONDS:
    raise ImproperlyConfigured(
        f"STAGELOOP_LEASE_RENEW_SECONDS={LEASE_RENEW_SECONDS} must be shorter than "
        f"STAGELOOP_LEASE_SECONDS={LEASE_SECONDS}, or leases run out between renewals."
    )
SWEEP_INTERVAL = env_int("STAGELOOP_SWEEP_INTERVAL", 15, minimum=1)
# A canary step probes the candidate and the stable revision this often (ms) while it holds.
CANARY_PROBE_INTERVAL = env_int("STAGELOOP_CANARY_PROBE_INTERVAL_MS", 1000, minimum=50) / 1000
# Retention (runs.services.retention): for suites without a policy of their own, keep runs this
# many days and/or the newest this many runs; 0 is no limit, and both 0 (the default) keep
# everything, so an upgrade never deletes a team's history it did not ask to delete.
RETENTION_DAYS = env_int("STAGELOOP_RETENTION_DAYS", 0, minimum=0)
RETENTION_RUNS = env_int("STAGELOOP_RETENTION_RUNS", 0, minimum=0)
# Results deleted per transaction: each batch commits, so pages wait at most one batch's locks.
RETENTION_BATCH = env_int("STAGELOOP_RETENTION_BATCH", 20_000, minimum=1)
# The hour (UTC) of the nightly pass.
RETENTION_HOUR = env_int("STAGELOOP_RETENTION_HOUR", 3, minimum=0)
# Suite schedules (runs.services.schedules): how often the beat looks for suites due to run.
SCHEDULE_TICK = env_int("STAGELOOP_SCHEDULE_TICK", 30, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "dashboard.tasks.worker_heartbeat",
        "schedule": timedelta(seconds=HEARTBEAT_INTERVAL),
        "options": {"expires": HEARTBEAT_INTERVAL},
    },
    # Claims the probes due in the next seconds and sends them to the workers in batches.
    "probes-dispatch": {
        "task": "health.tasks.probes_dispatch",
        "schedule": timedelta(seconds=2),
        "options": {"expires": 2},
    },
    "health-retention-prune": {
        "task": "health.tasks.health_retention_prune",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # SLO burn-rate alerts (health.services.slo_alerts): windows of 5 min to 6 h, every minute.
    "slo-alerts-check": {
        "task": "health.tasks.slo_alerts_check",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Issue 19: the percentiles of each closed hour and day, so pages read points, not sketches.
    "health-latency-points-seal": {
        "task": "health.tasks.latency_points_seal_task",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 240},
    },
    "attachments-prune": {
        "task": "runs.tasks.attachments_prune",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Nightly: delete runs past their suite's retention policy, in short batches.
    "retention-pass": {
        "task": "runs.tasks.retention_pass",
        "schedule": crontab(hour=RETENTION_HOUR, minute=17),
        "options": {"expires": 3 * 3600},
    },
    # Starts the runs of suites whose schedule is due, or records why an occurrence was skipped.
    "suite-schedules": {
        "task": "runs.tasks.schedules_tick",
        "schedule": timedelta(seconds=SCHEDULE_TICK),
        "options": {"expires": SCHEDULE_TICK},
    },
    "runs-sweep": {
        "task": "runs.tasks.runs_sweep",
        "schedule": timedelta(seconds=SWEEP_INTERVAL),
        "options": {"expires": SWEEP_INTERVAL},
    },
    # Sends webhook deliveries that are due (retries, and any whose on-commit message was lost).
    "webhooks-send": {
        "task": "integrations.tasks.webhooks_send",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 10},
    },
    "commit-statuses-send": {
        "task": "integrations.tasks.commit_statuses_send",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 10},
    },
    # Old webhook deliveries and commit statuses (STAGELOOP_WEBHOOKS_DELIVERIES_KEEP_DAYS).
    "integrations-prune": {
        "task": "integrations.tasks.integrations_prune",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Notifications: due ones (retries, lost wake-ups), digests whose period ended, and action
    # items that became overdue (each announced once).
    "notifications-send": {
        "task": "integrations.tasks.notifications_send",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 10},
    },
    "notifications-digest": {
        "task": "integrations.tasks.notifications_digest",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
    "action-items-overdue": {
        "task": "analyses.tasks.action_items_overdue",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 900},
    },
}

# --- Stageloop ----------------------------------------------------------------------------------
# A worker whose last heartbeat is older than this shows as offline on the overview.
WORKER_OFFLINE_AFTER = env_int("STAGELOOP_WORKER_OFFLINE_AFTER", 3 * HEARTBEAT_INTERVAL, minimum=1)
INGEST_MAX_BYTES = env_int("STAGELOOP_INGEST_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
# A whole upload request (several report files and the form fields): refused from its
# Content-Length before it is read, and while streaming when it announces none (dashboard.uploads).
UPLOAD_MAX_BYTES = env_int(
    "STAGELOOP_UPLOAD_MAX_BYTES", 4 * INGEST_MAX_BYTES + 1024 * 1024, minimum=1024
)
# Attachments (files a report names, from an uploaded archive, extra uploaded files or the
# runner's output folder): one file, all of one run's, and what an uploaded archive may unpack to.
ATTACHMENT_MAX_BYTES = env_int("STAGELOOP_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
ATTACHMENTS_RUN_MAX_BYTES = env_int(
    "STAGELOOP_ATTACHMENTS_RUN_MAX_BYTES", 100 * 1024 * 1024, minimum=1
)
ATTACHMENTS_RUN_MAX_FILES = env_int("STAGELOOP_ATTACHMENTS_RUN_MAX_FILES", 1000, minimum=1)
ARCHIVE_MAX_BYTES = env_int("STAGELOOP_ARCHIVE_MAX_BYTES", 4 * UPLOAD_MAX_BYTES, minimum=1024)
ARCHIVE_MAX_FILES = env_int("STAGELOOP_ARCHIVE_MAX_FILES", 10_000, minimum=1)
# Attachments of runs older than this are deleted (files too) by the hourly prune; 0 keeps them.
ATTACHMENT_RETENTION_DAYS = env_int("STAGELOOP_ATTACHMENT_RETENTION_DAYS", 90, minimum=0)
# A JSON (non-file) request body: large enough for the test-state lookup's 20,000 tests with
# long names (runs/api/states.py); over it the answer is 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "dashboard.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FLAKY_WINDOW = env_int("STAGELOOP_FLAKY_WINDOW", 20, minimum=2)
# The reality check judges a test ("never failed, never took 1 ms") only after this many runs of it.
REALITY_MIN_RUNS = env_int("STAGELOOP_REALITY_MIN_RUNS", 5, minimum=2)
HEALTH_RESULTS_RETENTION_DAYS = env_int("STAGELOOP_PROBE_RESULTS_DAYS", 14, minimum=1)
HEALTH_MINUTE_ROLLUPS_RETENTION_DAYS = env_int("STAGELOOP_MINUTE_ROLLUPS_DAYS", 30, minimum=1)
HEALTH_HOUR_ROLLUPS_RETENTION_DAYS = env_int("STAGELOOP_HOUR_ROLLUPS_DAYS", 400, minimum=1)
# Day rollups (issue 19) answer charts longer than 7 days; a 24th of the hour rollups' rows.
HEALTH_DAY_ROLLUPS_RETENTION_DAYS = env_int("STAGELOOP_DAY_ROLLUPS_DAYS", 400, minimum=1)
# --- Probe locations (health/locations.py) ----------------------------------------------------
# This worker's location label; a worker of location "eu" also consumes the queue probes.eu.
HEALTH_PROBE_LOCATION = env_str("STAGELOOP_PROBE_LOCATION", "default")
if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", HEALTH_PROBE_LOCATION):
    raise ImproperlyConfigured(
        f"STAGELOOP_PROBE_LOCATION={HEALTH_PROBE_LOCATION!r} is not a location label: use 1 to 40 "
        "lower-case letters, digits and dashes, such as eu-west."
    )
# Probes per task (one transaction, one bulk insert and rollup upsert each), and how many of a
# task's probes are in flight at once.
HEALTH_PROBE_BATCH_SIZE = env_int("STAGELOOP_PROBE_BATCH_SIZE", 200, minimum=1)
HEALTH_PROBE_CONCURRENCY = env_int("STAGELOOP_PROBE_CONCURRENCY", 50, minimum=1)
# --- Webhooks (integrations/) ---------------------------------------------------------------------
# The address pages are reached at, such as https://stageloop.example.com: webhook bodies link to
# it (without it, their links are paths).
PUBLIC_URL = env_str("STAGELOOP_PUBLIC_URL", "").rstrip("/")
# The admin's switch: let webhooks call loopback, private and link-local addresses (an internal
# receiver). Off, such URLs are refused when saved and when sent (SSRF); metadata addresses never.
WEBHOOKS_ALLOW_PRIVATE = env_bool("STAGELOOP_WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOKS_MAX_ATTEMPTS = env_int("STAGELOOP_WEBHOOKS_MAX_ATTEMPTS", 8, minimum=1)
# Retry n waits RETRY_BASE x 2^(n-1) seconds, plus up to a fifth more (jitter).
WEBHOOKS_RETRY_BASE_SECONDS = env_int("STAGELOOP_WEBHOOKS_RETRY_BASE_SECONDS", 30, minimum=0)
# This many failed attempts in a row pause a webhook, and its creator is emailed.
WEBHOOKS_PAUSE_AFTER = env_int("STAGELOOP_WEBHOOKS_PAUSE_AFTER", 10, minimum=1)
WEBHOOKS_CONNECT_TIMEOUT = env_int("STAGELOOP_WEBHOOKS_CONNECT_TIMEOUT", 3, minimum=1)
WEBHOOKS_TIMEOUT = env_int("STAGELOOP_WEBHOOKS_TIMEOUT", 10, minimum=1)
WEBHOOKS_BATCH = env_int("STAGELOOP_WEBHOOKS_BATCH", 200, minimum=1)
WEBHOOKS_CONCURRENCY = env_int("STAGELOOP_WEBHOOKS_CONCURRENCY", 50, minimum=1)
# A 429 or 503's Retry-After (seconds or an HTTP date) sets the next attempt, capped at this.
WEBHOOKS_RETRY_AFTER_MAX_SECONDS = env_int(
    "STAGELOOP_WEBHOOKS_RETRY_AFTER_MAX_SECONDS", 3600, minimum=1
)
# The hourly prune deletes finished deliveries (and commit statuses) older than this many days,
# but keeps each webhook's latest KEEP_LATEST deliveries whatever their age; 0 days keeps all.
WEBHOOKS_DELIVERIES_KEEP_DAYS = env_int("STAGELOOP_WEBHOOKS_DELIVERIES_KEEP_DAYS", 30, minimum=0)
WEBHOOKS_DELIVERIES_KEEP_LATEST = env_int(
    "STAGELOOP_WEBHOOKS_DELIVERIES_KEEP_LATEST", 100, minimum=0
)
# After "Rotate secret", deliveries carry a signature with the old secret too for this long, so
# receivers can switch without refusing a delivery; 0 ends the old secret at once.
WEBHOOKS_SECRET_GRACE_HOURS = env_int("STAGELOOP_WEBHOOKS_SECRET_GRACE_HOURS", 24, minimum=0)
# --- Commit statuses (integrations/codehost.py) --------------------------------------------------
# A code host is on when its token is set; a service names its host and repository (admin).
# The tokens are read here only, sent in a header only, and never logged or shown.
GITHUB_TOKEN = env_str("STAGELOOP_GITHUB_TOKEN", "")
GITHUB_API_URL = env_str("STAGELOOP_GITHUB_API_URL", "https://api.github.com").rstrip("/")
GITLAB_TOKEN = env_str("STAGELOOP_GITLAB_TOKEN", "")
GITLAB_URL = env_str("STAGELOOP_GITLAB_URL", "https://gitlab.com").rstrip("/")
COMMIT_STATUS_MAX_ATTEMPTS = env_int("STAGELOOP_COMMIT_STATUS_MAX_ATTEMPTS", 8, minimum=1)
COMMIT_STATUS_RETRY_BASE_SECONDS = env_int(
    "STAGELOOP_COMMIT_STATUS_RETRY_BASE_SECONDS", 30, minimum=0
)
COMMIT_STATUS_CONNECT_TIMEOUT = env_int("STAGELOOP_COMMIT_STATUS_CONNECT_TIMEOUT", 3, minimum=1)
COMMIT_STATUS_TIMEOUT = env_int("STAGELOOP_COMMIT_STATUS_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "stageloop@localhost")
# --- Notifications (integrations/) ----------------------------------------------------------------
# Email (email channels, subscriptions to one's own address, paused-webhook notes) goes through
# Django's backend, configured by the environment (Django's defaults: SMTP on localhost:25).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
# Seconds one message may take (connect, send, answer); past it the worker moves on.
NOTIFICATIONS_TIMEOUT = env_int("STAGELOOP_NOTIFICATIONS_TIMEOUT", 10, minimum=1)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("STAGELOOP_NOTIFICATIONS_MAX_ATTEMPTS", 5, minimum=1)
NOTIFICATIONS_BATCH = env_int("STAGELOOP_NOTIFICATIONS_BATCH", 50, minimum=1)
NOTIFICATIONS_CONCURRENCY = env_int("STAGELOOP_NOTIFICATIONS_CONCURRENCY", 8, minimum=1)
# The hour (UTC) daily digests go out.
NOTIFICATIONS_DIGEST_HOUR = env_int("STAGELOOP_NOTIFICATIONS_DIGEST_HOUR", 8, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request's full URL at INFO: a webhook URL may carry a token in its query
    # string. Warnings and errors only (they name no URL).
    "loggers": {
        "httpx": {"level": "WARNING"},
        # Apprise logs request URLs, which hold channel tokens: the sender logs its own scrubbed
        # errors instead (integrations.services.notification_sending).
        "apprise": {"handlers": [], "propagate": False, "level": "WARNING"},
    },
}
