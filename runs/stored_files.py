"""Files on disk follow their rows: when an attachment or artifact row is deleted (directly,
or with its run, suite or service), its file is removed once the deletion commits.

Storage housekeeping, not a business flow: a signal is the one place every cascade passes.
"""

from __future__ import annotations

from contextlib import suppress

from django.db import transaction
from django.db.models.signals import post_delete


def _remove_file(sender, instance, **kwargs) -> None:
    stored = instance.file
    if not stored or not stored.name:
        return
    storage, name = stored.storage, stored.name

    def remove() -> None:
        with suppress(OSError):
            storage.delete(name)

    transaction.on_commit(remove)


def connect() -> None:
    from runs.models import TestAttachment, TestRunArtifact

    for model in (TestAttachment, TestRunArtifact):
        post_delete.connect(
            _remove_file, sender=model, dispatch_uid=f"remove-file-{model.__name__}"
        )
