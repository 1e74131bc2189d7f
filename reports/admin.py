from django.contrib import admin

from reports.models import Capability, DeliveryBand


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "updated_at")
    search_fields = ("name", "patterns", "description")
    filter_horizontal = ("services",)


@admin.register(DeliveryBand)
class DeliveryBandAdmin(admin.ModelAdmin):
    list_display = ("metric", "rank", "level", "lower", "upper", "source")
    list_filter = ("metric", "source")
