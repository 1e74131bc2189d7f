from django.contrib import admin

from dashboard.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "pid", "last_beat_at", "beats")
    search_fields = ("hostname",)
