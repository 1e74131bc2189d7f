from django.contrib import admin

from health import models


@admin.register(models.Probe)
class ProbeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "service",
        "path",
        "url",
        "interval_seconds",
        "locations",
        "quorum",
        "enabled",
        "next_probe_at",
    )
    list_filter = ("enabled", "service")
    # Kept by the recording service from results; an edit here would be overwritten anyway.
    readonly_fields = ("location_states",)
    search_fields = ("name", "path", "url")


@admin.register(models.ProbeResult)
class ProbeResultAdmin(admin.ModelAdmin):
    list_display = (
        "probe",
        "checked_at",
        "location",
        "ok",
        "status_code",
        "latency_ms",
        "error_kind",
    )
    list_filter = ("ok", "error_kind", "location")
    search_fields = ("probe__name", "error")
    raw_id_fields = ("probe", "revision")
    show_full_result_count = False


@admin.register(models.ProbeRollupMinute, models.ProbeRollupHour)
class RollupAdmin(admin.ModelAdmin):
    list_display = ("probe", "bucket_start", "count", "ok_count", "latency_min", "latency_max")
    list_filter = ("probe__service",)
    search_fields = ("probe__name",)
    raw_id_fields = ("probe", "revision")


@admin.register(models.Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("probe", "service", "revision", "opened_at", "closed_at")
    list_filter = ("service", "closed_at")
    search_fields = ("first_error", "probe__name")
    raw_id_fields = ("probe", "revision")


@admin.register(models.MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ("service", "kind", "starts_at", "ends_at", "local_start", "duration_minutes")
    list_filter = ("kind", "service")
    search_fields = ("reason",)
