"""Admin of the indicator catalogue, designations and reference values. Rounds and thresholds are in
reviews/admin.py because changing a threshold re-scores submissions."""

from django.contrib import admin

from .models import Designation, Indicator, ReferenceValue, ThresholdChange


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "unit_zh", "kind", "category", "order")
    list_filter = ("kind", "category")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("code", "kind", "inputs", "decimals")


@admin.register(Designation)
class DesignationAdmin(admin.ModelAdmin):
    list_display = ("city", "round", "source", "designated_on")
    list_filter = ("round", "source", "city__province__region", "city__province")
    search_fields = ("city__name", "city__code")
    autocomplete_fields = ("city",)
    list_select_related = ("city", "round")


@admin.register(ReferenceValue)
class ReferenceValueAdmin(admin.ModelAdmin):
    list_display = ("round", "indicator", "value", "source")
    list_filter = ("round", "indicator")


@admin.register(ThresholdChange)
class ThresholdChangeAdmin(admin.ModelAdmin):
    list_display = (
        "round",
        "indicator",
        "old_value",
        "new_value",
        "version",
        "changed_by",
        "changed_at",
        "reason",
    )
    list_filter = ("round", "indicator")
    search_fields = ("reason",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
