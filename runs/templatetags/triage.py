"""Template helpers for the triage of failure signatures."""

from __future__ import annotations

from django import template

from runs.models import Triage

register = template.Library()


@register.filter
def triage_label(value: str | None) -> str:
    """ "Product bug" for "product_bug"; "Untriaged" for nothing."""
    try:
        return Triage(value or Triage.UNTRIAGED).label
    except ValueError:
        return str(value)


@register.simple_tag
def triage_categories() -> list[tuple[str, str]]:
    return list(Triage.choices)
