"""The admin's view of posted commit statuses: read-only (rows are written and sent by the code)."""

from __future__ import annotations

from django.contrib import admin

from integrations.models import CommitStatus


@admin.register(CommitStatus)
class CommitStatusAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "repository",
        "sha",
        "context",
        "state",
        "status",
        "attempts",
        "last_status_code",
        "error",
    )
    list_filter = ("status", "state", "host")
    search_fields = ("repository", "sha", "context")
    readonly_fields = [f.name for f in CommitStatus._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
