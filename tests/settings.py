"""Test settings: the real settings module, with a throwaway secret and a fast password hasher."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault(
    "STAGELOOP_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)

from dashboard.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

# On SQLite, test on a file like the embedded mode does (WAL, busy timeout): Django's default
# in-memory test database shares one cache whose table locks fail at once ("database table is
# locked") when a live server, a worker thread and the test write together.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

# Pages render without a collectstatic step, whatever DEBUG says; the production storage (hashed
# names from the manifest) is tested on its own in tests/static/.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# One process (the test worker runs in a thread): a local-memory cache, emptied before each test
# (tests/conftest.py). With Redis (PostgreSQL mode: CACHE_URL, or the broker's own db) the page
# cache is tested against the real server.
_redis_cache = CACHE_URL or (  # noqa: F405
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""  # noqa: F405
)
if _redis_cache:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _redis_cache,
            "KEY_PREFIX": "stageloop-test",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# PostgreSQL: the real backend, with a cheaper flush between transactional tests
# (tests/postgresql_flush).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.postgresql_flush"  # noqa: F405
