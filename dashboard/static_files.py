"""Static files in production: the hashed names of collectstatic's manifest, which WhiteNoise
serves as immutable for ten years. A name missing from the manifest never fails a page: it is
linked by its plain name (cached for 60 s) and logged as an error; the web server logs at start
when the manifest is missing or older than the files."""

from __future__ import annotations

import logging

from django.apps import apps
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.files.storage import Storage
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

COLLECT = "Run `python manage.py collectstatic --no-input` (make serve and the Docker image do)."


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, hashed storage; a name missing from the manifest is linked by its
    plain name and logged as an error (once per name and process) instead of raising."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unlisted: set[str] = set()

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            if name not in self.unlisted:
                self.unlisted.add(name)
                logger.error(
                    "Static file %r is not in %s: linked by its plain name. %s",
                    name,
                    self.manifest_storage.path(self.manifest_name),
                    COLLECT,
                )
            return name


def static_manifest_check(storage: Storage | None = None) -> str | None:
    """What is wrong with the collected static files (logged as an error), or None: nothing,
    or a storage that does not hash names (development)."""
    storage = staticfiles_storage if storage is None else storage
    if not isinstance(storage, ManifestFilesMixin):
        return None
    location = storage.manifest_storage.path(storage.manifest_name)
    if not storage.manifest_storage.exists(storage.manifest_name):
        problem = f"Static files are not collected: {location} is missing. {COLLECT}"
    else:
        listed = storage.load_manifest()[0]
        ignore = apps.get_app_config("staticfiles").ignore_patterns
        missing = sorted(
            path
            for finder in finders.get_finders()
            for path, _ in finder.list(ignore)
            if path.replace("\\", "/") not in listed
        )
        if not missing:
            return None
        problem = (
            f"Collected static files are out of date: {len(missing)} not in {location} "
            f"({', '.join(missing[:5])}). {COLLECT}"
        )
    logger.error(problem)
    return problem
