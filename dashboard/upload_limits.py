"""The upload limits' error and its sentences (dashboard/uploads.py enforces them)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig


class UploadTooLarge(RequestDataTooBig):
    """An upload over STAGELOOP_INGEST_MAX_BYTES per file or STAGELOOP_UPLOAD_MAX_BYTES per
    request; ``str()`` is the sentence the user reads."""


def human_size(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def request_too_large(length: int) -> UploadTooLarge:
    limit = settings.UPLOAD_MAX_BYTES
    return UploadTooLarge(
        f"The request is {human_size(length)}, over the {human_size(limit)} this server accepts "
        f"per upload (STAGELOOP_UPLOAD_MAX_BYTES = {limit}): send fewer or smaller reports."
    )


def file_too_large(name: str) -> UploadTooLarge:
    limit = settings.INGEST_MAX_BYTES
    return UploadTooLarge(
        f"{name or 'A file'} is over the {human_size(limit)} limit per report file "
        f"(STAGELOOP_INGEST_MAX_BYTES = {limit}): split the report or gzip it."
    )
