"""A test's attachment, served so that it can never run as a page of this site."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from runs.models import TestAttachment
from runs.services.attachments import SAFE_IMAGE_TYPES


def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Raster images (sniffed from their bytes at import) inline for <img>; everything else,
    HTML and SVG included, as a download of application/octet-stream."""
    attachment = get_object_or_404(TestAttachment.objects.exclude(file=""), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(f"The file of attachment “{attachment.name}” is no longer stored.") from exc
    inline = attachment.content_type in SAFE_IMAGE_TYPES and "download" not in request.GET
    filename = PurePosixPath(attachment.name.replace("\\", "/")).name or "attachment"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
