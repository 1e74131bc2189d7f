"""Save an edited analysis as a whole: everything is validated first, then written in one
transaction with one history event naming what changed."""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from analyses.models import ActionItem, Analysis, Why
from analyses.services.analyses import analysis_event_record

_FIELDS = ("title", "status", "problem", "trigger", "root_causes", "contributing_factors")
_ITEM_FIELDS = ("what", "owner", "due_date", "status", "link")
_LABELS = {
    "title": "title",
    "status": "status",
    "problem": "problem",
    "trigger": "trigger",
    "root_causes": "root causes",
    "contributing_factors": "contributing factors",
}


def _check_rules(*, analysis: Analysis, fields: dict, whys: list[dict]) -> None:
    """What the five whys need before they can be called done."""
    errors = []
    if fields["status"] == Analysis.Status.VERIFIED:
        errors.append(
            "An analysis is verified by a passing run, not by hand; choose another status."
        )
    if fields["status"] == Analysis.Status.DONE:
        if not whys:
            errors.append("Add at least one why before marking the analysis done.")
        if not fields["root_causes"]:
            errors.append("Name at least one root cause before marking the analysis done.")
    if errors:
        raise ValidationError(errors)


def _build_items(*, analysis: Analysis, items: list[dict]) -> tuple[list, list, list]:
    """Validate every action-item row; return (to create, to update, to delete) without writing."""
    existing = {item.pk: item for item in analysis.action_items.all()}
    creates: list[ActionItem] = []
    updates: list[ActionItem] = []
    deletes: list[ActionItem] = []
    errors = []
    for number, row in enumerate(items, start=1):
        item = existing.get(row["id"]) if row["id"] else ActionItem(analysis=analysis)
        if item is None:
            errors.append(f"Action item {number} does not belong to this analysis.")
            continue
        if row["delete"]:
            if item.pk:
                deletes.append(item)
            continue
        before = {name: getattr(item, name) for name in _ITEM_FIELDS}
        for name in _ITEM_FIELDS:
            setattr(item, name, row[name])
        try:
            item.full_clean(exclude=["analysis"])
        except ValidationError as exc:
            errors += [f"Action item {number}: {m}" for m in exc.messages]
            continue
        if item.pk is None:
            creates.append(item)
        elif before != {name: getattr(item, name) for name in _ITEM_FIELDS}:
            if item.due_date != before["due_date"]:
                item.overdue_notified_at = None  # a new due date is announced when it passes
            updates.append(item)
    if errors:
        raise ValidationError(errors)
    return creates, updates, deletes


def analysis_save(
    *, analysis: Analysis, fields: dict, whys: list[dict], items: list[dict], user
) -> list[str]:
    """Replace the analysis' fields, its ordered chain of whys and its action items.

    Raises ValidationError (with sentences) and writes nothing when any part is invalid.
    Returns the changes recorded in the history (empty when nothing changed).
    """
    _check_rules(analysis=analysis, fields=fields, whys=whys)
    new_whys = [
        Why(analysis=analysis, position=position, **why)
        for position, why in enumerate(whys, start=1)
    ]
    for number, why in enumerate(new_whys, start=1):
        try:
            why.full_clean(exclude=["analysis"], validate_unique=False)
        except ValidationError as exc:
            raise ValidationError([f"Why {number}: {m}" for m in exc.messages]) from None
    creates, updates, deletes = _build_items(analysis=analysis, items=items)
    candidate = copy.copy(analysis)
    for name in _FIELDS:
        setattr(candidate, name, fields[name])
    candidate.full_clean(exclude=["cases"])

    changes = [
        f"Changed {_LABELS[name]}"
        for name in _FIELDS
        if getattr(analysis, name) != fields[name] and name != "status"
    ]
    if analysis.status != fields["status"]:
        changes.append(
            f"Status {Analysis.Status(analysis.status).label} → "
            f"{Analysis.Status(fields['status']).label}"
        )
    old_whys = [(w.question, w.answer, w.evidence) for w in analysis.whys.all()]
    if old_whys != [(w.question, w.answer, w.evidence) for w in new_whys]:
        changes.append(f"Whys: {len(old_whys)} → {len(new_whys)}, edited or reordered")
    changes += [f"Added action item “{i.what[:60]}”" for i in creates]
    changes += [f"Updated action item “{i.what[:60]}”" for i in updates]
    changes += [f"Removed action item “{i.what[:60]}”" for i in deletes]
    if not changes:
        return []

    with transaction.atomic():
        for name in _FIELDS:
            setattr(analysis, name, fields[name])
        if analysis.status == Analysis.Status.DONE and analysis.done_at is None:
            analysis.done_at = timezone.now()
        analysis.save()
        if any(c.startswith("Whys:") for c in changes):
            analysis.whys.all().delete()
            Why.objects.bulk_create(new_whys)
        ActionItem.objects.bulk_create(creates)
        for item in updates:
            item.save()
        ActionItem.objects.filter(pk__in=[i.pk for i in deletes]).delete()
        summary = changes[0] if len(changes) == 1 else f"Edited: {'; '.join(changes)}"
        analysis_event_record(analysis=analysis, who=user, what=summary, details=changes)
    return changes
