"""Production pages link static files by the hashed names in collectstatic's manifest, and a name
missing from it fails the page. The web server checks the manifest once, when it starts."""

from __future__ import annotations

from django.apps import apps
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage

COLLECT = "Run `python manage.py collectstatic --no-input` before starting the web server."


def static_manifest_require(storage: Storage | None = None) -> None:
    """Return if the static storage does not hash names, or if its manifest lists every static
    file of the installation; otherwise raise ImproperlyConfigured saying what to run."""
    storage = staticfiles_storage if storage is None else storage
    if not isinstance(storage, ManifestFilesMixin):
        return
    location = storage.manifest_storage.path(storage.manifest_name)
    if not storage.manifest_storage.exists(storage.manifest_name):
        raise ImproperlyConfigured(
            f"Static files are not collected: {location} is missing. {COLLECT}"
        )
    listed = storage.load_manifest()[0]
    ignore = apps.get_app_config("staticfiles").ignore_patterns  # type: ignore[attr-defined]
    missing = sorted(
        path
        for finder in finders.get_finders()
        for path, _ in finder.list(ignore)
        if path.replace("\\", "/") not in listed
    )
    if missing:
        raise ImproperlyConfigured(
            f"Collected static files are out of date: {len(missing)} not in {location} "
            f"({', '.join(missing[:5])}). {COLLECT}"
        )
