"""Helpers the summary selectors share: evidence links and a portable median in SQL."""

from __future__ import annotations

from django.urls import reverse

from reports.scope import Scope


def evidence_url(scope: Scope, kind: str, **extra) -> str:
    return f"{reverse('reports:evidence', args=[kind])}?{scope.query(**extra)}"


def median(queryset, field: str):
    """The median of ``field`` over the queryset, computed by the database on both backends
    (count, then the one or two middle rows by ORDER BY … OFFSET); None when empty."""
    n = queryset.count()
    if n == 0:
        return None, 0
    middle = list(queryset.order_by(field).values_list(field, flat=True)[(n - 1) // 2 : n // 2 + 1])
    if len(middle) == 1:
        return middle[0], n
    return middle[0] + (middle[1] - middle[0]) / 2, n
