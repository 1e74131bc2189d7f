"""The environment a child command gets: an allowlist of ours, never the dashboard's secrets.

The suite runner and the deploy targets that run commands (local, command) build their child's
environment here, so the dashboard's own settings and secrets (``SECRET_KEY``, ``DATABASE_URL``,
``CELERY_BROKER_URL``, cloud credentials, ...) reach no suite, service or deploy command unless
an admin asks for them by name.

A child gets, later layers winning:

1. ``BASE_ENV`` and ``LC_*`` from this process's environment: what a program needs to run at all
   (PATH, HOME, user, shell, locale, time zone, temp dir, virtualenv, CA bundles, proxies);
2. the names in ``pass_env`` (a deploy target's ``"pass_env": ["NAME", ...]``), copied from this
   process's environment when set there;
3. the caller's configured ``env`` (a suite's or target's ``"env"``, a deploy request's env);
4. the values the caller sets itself (``STAGELOOP_*``, ``PORT``), which nothing above overrides.

Deploy targets also default ``PYTHONUNBUFFERED=1`` (``UNBUFFERED``, under the configured env) so
a Python command's output reaches the deploy log as it is printed and in order, as it did when
the dashboard's own environment (the Docker image sets it) was passed whole; the runner forces it.

Cloud credentials are secrets like any other: ``GOOGLE_APPLICATION_CREDENTIALS``, ``CLOUDSDK_*``
and the like do *not* pass to a ``command`` target by default, even though it typically runs
``gcloud run deploy``. The dashboard's credentials are for its ``cloudrun`` target and may allow
more than a deploy script should; an admin who wants a command to use them lists them in the
target's ``pass_env``. ``gcloud`` logged in as the worker's user (``~/.config/gcloud``, found
through HOME) and credentials from a metadata server keep working without that.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

BASE_ENV = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "VIRTUAL_ENV",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SYSTEMROOT",
    }
)

# Under a target's configured env: output reaches the log as it is printed, not when a buffer fills.
UNBUFFERED = {"PYTHONUNBUFFERED": "1"}


def child_env(
    env: Mapping[str, str] | None = None,
    *,
    pass_env: Iterable[str] = (),
    own: Mapping[str, str] | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a child: allowlisted and ``pass_env`` variables of ``source`` (this
    process's environment by default), then ``env``, then the caller's ``own`` values."""
    source = os.environ if source is None else source
    passed = set(pass_env)
    merged = {
        key: value
        for key, value in source.items()
        if key in BASE_ENV or key.startswith("LC_") or key in passed
    }
    merged.update(env or {})
    merged.update(own or {})
    return merged
