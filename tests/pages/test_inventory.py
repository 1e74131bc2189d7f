"""The page inventory covers every named page of the URLconf, so the browser matrices (widths,
themes, axe-core) open every page, including the ones added later."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from tests.pages.inventory import NOT_PAGE_NAMESPACES, NOT_PAGES, PAGES


def _named_urls(patterns, namespace: str | None = None) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            full = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _named_urls(pattern.url_patterns, full)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_named_page_is_in_the_inventory():
    named = {
        name
        for name in _named_urls(get_resolver().url_patterns)
        if name.split(":")[0] not in NOT_PAGE_NAMESPACES
    }
    covered = set(PAGES.values()) | set(NOT_PAGES)
    missing = sorted(named - covered)
    assert not missing, (
        "Named URLs the page inventory does not cover; add each to PAGES (and a path to "
        f"seed_world) or to NOT_PAGES with the reason, in tests/pages/inventory.py: {missing}"
    )


def test_the_inventory_names_only_urls_that_exist():
    named = set(_named_urls(get_resolver().url_patterns))
    stale = sorted({n for n in PAGES.values() if n} | set(NOT_PAGES))
    assert [n for n in stale if n not in named] == []
