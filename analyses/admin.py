from django.contrib import admin

from analyses.models import ActionItem, Analysis, Why


class WhyInline(admin.TabularInline):
    model = Why
    extra = 0


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ("title", "service", "status", "created_by", "created_at", "verified_at")
    list_filter = ("status", "service")
    search_fields = ("title", "problem", "trigger")
    raw_id_fields = ("signature", "run", "revision", "verified_by_run", "cases")
    inlines = [WhyInline, ActionItemInline]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ("what", "analysis", "owner", "due_date", "status")
    list_filter = ("status", "owner")
    search_fields = ("what",)
