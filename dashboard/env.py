"""Read settings from the environment; a malformed value stops start-up with a clear message."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str) -> str:
    """The variable's value, or `default` when it is unset."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """A boolean: one of 1/0, true/false, yes/no, on/off (any case)."""
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of 1, 0, true, false, yes, no, on, off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer, optionally at least `minimum`."""
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is too small: it must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    """A URL whose scheme is one of `schemes`."""
    value = _raw(name)
    if value is None or value == "":
        return default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        expected = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(
            f"{name}={_redact(value)!r} is not a supported URL: expected one of {expected}."
        )
    return value


def env_origins(name: str) -> list[str]:
    """A comma-separated list of origins such as https://stageloop.example.com."""
    origins = env_list(name, [])
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured(
                f"{name} holds {origin!r}, which is not an origin: "
                "expected scheme and host, such as https://stageloop.example.com."
            )
    return origins


def _redact(url: str) -> str:
    """The URL without its password, so error messages never print secrets."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
