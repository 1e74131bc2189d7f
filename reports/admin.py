from django.contrib import admin

from reports.models import Capability, DeliveryBand, StatusPage
from reports.services.capability_cases import capability_save


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "updated_at")
    search_fields = ("name", "patterns", "description")
    filter_horizontal = ("services",)

    def save_model(self, request, obj, form, change) -> None:
        capability_save(capability=obj)  # its tests mapped again when its patterns changed


@admin.register(DeliveryBand)
class DeliveryBandAdmin(admin.ModelAdmin):
    list_display = ("metric", "rank", "level", "lower", "upper", "source")
    list_filter = ("metric", "source")


@admin.register(StatusPage)
class StatusPageAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "public", "show_test_names", "show_errors")
    list_filter = ("public",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("services",)
