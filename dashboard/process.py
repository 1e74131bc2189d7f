"""What a long-lived web process does once it has loaded the application."""

from __future__ import annotations

import gc

from django.urls import get_resolver


def web_process_ready() -> None:
    """Import every view (the URLconf), then move everything loaded so far out of the garbage
    collector's reach: a full collection otherwise walks the whole framework's objects and
    stalls one request in ten by 150-250 ms on a page that makes thousands of small objects
    (bench/status_page.py). The objects of requests are still collected as usual."""
    get_resolver().url_patterns  # noqa: B018 - loading the URLconf imports the views
    gc.collect()
    gc.freeze()
