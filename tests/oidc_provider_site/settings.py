"""The test provider's own settings: its own SQLite file in a temporary folder, nothing shared
with Stageloop (not the database, not the cookies)."""

import os
from pathlib import Path

DATA_DIR = Path(os.environ["OIDC_TEST_PROVIDER_DIR"])
HERE = Path(__file__).resolve().parent

SECRET_KEY = "test-provider-only-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.oidc_provider_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "op.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
LOGIN_URL = "/accounts/login/"
# Cookies are per host, not per port: names of their own keep the provider's session apart from
# Stageloop's when both run on 127.0.0.1.
SESSION_COOKIE_NAME = "op_sessionid"
CSRF_COOKIE_NAME = "op_csrftoken"

OIDC_EXTRA_SCOPE_CLAIMS = "tests.oidc_provider_site.claims.GroupsClaims"
OIDC_IDTOKEN_PROCESSING_HOOK = "tests.oidc_provider_site.claims.idtoken_hook"
OIDC_USERINFO = "tests.oidc_provider_site.claims.userinfo"
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
OIDC_SKIP_CONSENT_EXPIRE = 1
LOGGING = {"version": 1, "disable_existing_loggers": False}
