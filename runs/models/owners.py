"""Owners of tests: CODEOWNERS-style rules per suite, a glob on a test's file, classname or
name pointing at a user or a team (a Django group). The last matching rule wins."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.conf import settings
from django.db import models
from django.db.models import Q


class OwnerRule(models.Model):
    class Field(models.TextChoices):
        FILE = "file", "File"
        CLASSNAME = "classname", "Classname"
        NAME = "name", "Name"

    suite = models.ForeignKey("runs.Suite", on_delete=models.CASCADE, related_name="owner_rules")
    position = models.PositiveIntegerField(
        default=0, help_text="Rules are read in this order; the last one that matches wins."
    )
    field = models.CharField(max_length=12, choices=Field.choices, default=Field.FILE)
    pattern = models.CharField(
        max_length=500, help_text="A glob such as tests/payments/* or *Checkout*."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["suite", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True)
                | Q(user__isnull=True, team__isnull=False),
                name="ownerrule_user_or_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field}:{self.pattern} → {self.owner_name}"

    @property
    def owner_name(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return f"team {self.team.name}" if self.team is not None else ""

    @property
    def owner_kind(self) -> str:
        return "user" if self.user_id is not None else "team"

    @property
    def owner_label(self) -> str:
        """The user's username or the team's name, without the word "team"."""
        if self.user is not None:
            return self.user.get_username()
        return self.team.name if self.team is not None else ""

    def matches(self, *, file: str, classname: str, name: str) -> bool:
        value = {"file": file, "classname": classname, "name": name}[self.field]
        return bool(value) and fnmatchcase(value, self.pattern)
