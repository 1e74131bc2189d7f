"""A status machine over one model's ``status`` column, moved by conditional UPDATEs.

``move`` changes a row only from a state that is allowed to reach the target state, in one
UPDATE ... WHERE status IN (...): two workers racing to end the same row cannot both win, and a
row that is already final stays as it is. Losing such a race is normal (the sweeper marked the
deploy lost a moment before its worker finished, an operator cancelled a run as it ended), so
``move`` says False. A move the table forbids for every row (asking for ``frm`` states that can
never reach ``to``) is a programming error and raises ``IllegalTransition``; ``strict=True``
raises too when the row's current state forbids the move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models


class IllegalTransition(Exception):
    """A status move that the lifecycle does not allow."""


class Machine:
    def __init__(
        self, model: type[models.Model], allowed: Mapping[Any, Iterable[Any]], name: str
    ) -> None:
        self.model = model
        self.name = name
        self.allowed: dict[str, frozenset[str]] = {
            str(src): frozenset(str(dst) for dst in dsts) for src, dsts in allowed.items()
        }
        self.states = frozenset(self.allowed) | {d for ds in self.allowed.values() for d in ds}
        self.final = frozenset(s for s in self.states if not self.allowed.get(s))

    def can(self, src: str, dst: str) -> bool:
        return dst in self.allowed.get(str(src), frozenset())

    def sources(self, dst: str) -> list[str]:
        """The states a row may be in to move to ``dst``."""
        return sorted(src for src, dsts in self.allowed.items() if dst in dsts)

    def move(
        self,
        rows: Any,
        to: str,
        *,
        frm: Iterable[str] | None = None,
        strict: bool = False,
        **fields: Any,
    ) -> int:
        """Move ``rows`` (a pk, an instance or a queryset of this model) to ``to``, setting
        ``fields`` too; return how many rows moved."""
        to = str(to)
        if to not in self.states:
            raise IllegalTransition(f"{self.name}: {to!r} is not a status")
        sources = self.sources(to)
        if frm is not None:
            asked = [str(s) for s in ([frm] if isinstance(frm, str) else frm)]
            bad = [s for s in asked if not self.can(s, to)]
            if bad:
                raise IllegalTransition(
                    f"{self.name}: {', '.join(bad)} → {to} is not an allowed move"
                )
            sources = [s for s in sources if s in asked]
        queryset = self._queryset(rows)
        moved = queryset.filter(status__in=sources).update(status=to, **fields)
        if strict and not moved:
            current = list(queryset.values_list("pk", "status"))
            raise IllegalTransition(
                f"{self.name}: cannot move {current or 'a missing row'} to {to}"
            )
        if moved and isinstance(rows, models.Model):
            rows.status = to  # type: ignore[attr-defined]
            for key, value in fields.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(rows, key, value)
        return moved

    def _queryset(self, rows: Any) -> models.QuerySet:
        if isinstance(rows, models.QuerySet):
            return rows
        if isinstance(rows, models.Model):
            return self.model._default_manager.filter(pk=rows.pk)
        return self.model._default_manager.filter(pk=rows)
