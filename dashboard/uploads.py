"""Uploads over the limits are refused before they are read.

Two places, both in front of every view (API and pages alike):

* ``UploadSizeMiddleware`` answers 413 from the announced ``Content-Length`` before a byte of
  the body is read: a 1 GB upload costs the worker nothing.
* ``SizeLimitUploadHandler``, first of Django's upload handlers, counts each file's bytes as
  the multipart parser streams them (to disk, through the handlers after it) and stops at the
  first byte over the per-file or per-request limit: a chunked upload that announces no size
  is read only up to the limit.

Both raise or answer ``UploadTooLarge`` (a ``RequestDataTooBig``), which dashboard/errors.py
turns into a 413 page, or JSON under /api/.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse

from dashboard.errors import too_large
from dashboard.upload_limits import file_too_large, request_too_large


class UploadSizeMiddleware:
    """Refuse a request whose Content-Length is over the upload limit, without reading it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django's request parsing answers a malformed length itself
        if length > settings.UPLOAD_MAX_BYTES:
            response = too_large(request, request_too_large(length))
            response["Connection"] = "close"  # the unread body must not be taken as a request
            return response
        return self.get_response(request)


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts bytes per file and per request while they stream; passes every chunk on."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.total = 0
        if content_length and content_length > settings.UPLOAD_MAX_BYTES:
            raise request_too_large(content_length)

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.file_bytes = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.file_bytes += len(raw_data)
        self.total = getattr(self, "total", 0) + len(raw_data)
        if self.file_bytes > settings.INGEST_MAX_BYTES:
            raise file_too_large(self.file_name or "")
        if self.total > settings.UPLOAD_MAX_BYTES:
            raise request_too_large(self.total)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
