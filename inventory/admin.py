from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Item, Location, Site, UnitConversion, UnitOfMeasure, Warehouse


@admin.register(UnitOfMeasure)
class UnitOfMeasureAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "decimal_places")
    search_fields = ("code", "name")


@admin.register(UnitConversion)
class UnitConversionAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "from_unit", "to_unit", "factor", "item")
    list_select_related = ("from_unit", "to_unit", "item")
    list_filter = ("from_unit", "to_unit")
    autocomplete_fields = ("item",)


@admin.register(Item)
class ItemAdmin(SimpleHistoryAdmin):
    list_display = (
        "part_number",
        "revision",
        "description",
        "item_type",
        "unit",
        "default_flushing_principle",
        "tracking",
        "is_active",
    )
    list_select_related = ("unit",)
    list_filter = ("item_type", "default_flushing_principle", "tracking", "is_active")
    search_fields = ("part_number", "description")


class WarehouseInline(admin.TabularInline):
    model = Warehouse
    extra = 0
    show_change_link = True


@admin.register(Site)
class SiteAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [WarehouseInline]


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Warehouse)
class WarehouseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "site")
    list_select_related = ("site",)
    list_filter = ("site",)
    search_fields = ("code", "name")
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "name", "kind", "allow_negative_stock")
    list_select_related = ("warehouse__site",)
    list_filter = ("kind", "warehouse__site", "warehouse")
    search_fields = ("code", "name", "warehouse__code")
