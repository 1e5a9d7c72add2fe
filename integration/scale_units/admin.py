"""Admin for hub and scale units. Registering a scale unit issues a token, so it is the
command's (manage.py register_scale_unit); here a scale unit can be deactivated, and its
reference data sent again."""

from django.contrib import admin, messages

from integration.models import (
    HubForward,
    HubLink,
    HubPackage,
    ReceivedPackage,
    ScaleUnit,
    ScaleUnitSite,
)
from integration.scale_units import services as scale_units
from mesproject.admin import ReadOnlyAdmin


class ScaleUnitSiteInline(admin.TabularInline):
    model = ScaleUnitSite
    extra = 0
    can_delete = False
    readonly_fields = ("site",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ScaleUnit)
class ScaleUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "last_contact_at", "reported_backlog")
    fields = (
        "code",
        "name",
        "is_active",
        "user",
        "last_contact_at",
        "acked_package_id",
        "reported_backlog",
        "reported_failed_packages",
        "reported_rejected",
    )
    readonly_fields = tuple(f for f in fields if f not in ("name", "is_active"))
    inlines = [ScaleUnitSiteInline]
    actions = ["send_reference_data"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send the reference data again", permissions=["change"])
    def send_reference_data(self, request, queryset):
        for unit in queryset:
            scale_units.package_reference_enqueue(scale_unit=unit, reason="sent from the admin")
        messages.success(request, f"Reference data queued for {queryset.count()} scale unit(s).")


@admin.register(HubPackage)
class HubPackageAdmin(ReadOnlyAdmin):
    list_display = ("id", "scale_unit", "kind", "order_number", "reason", "created_at")
    list_filter = ("scale_unit", "kind")
    search_fields = ("order_number",)
    list_select_related = ("scale_unit",)


@admin.register(ReceivedPackage)
class ReceivedPackageAdmin(ReadOnlyAdmin):
    list_display = ("hub_id", "kind", "order_number", "reason", "status", "received_at")
    list_filter = ("status", "kind")
    search_fields = ("order_number",)


@admin.register(HubForward)
class HubForwardAdmin(ReadOnlyAdmin):
    list_display = ("id", "registration_uuid", "kind", "order_number", "status", "attempts")
    list_filter = ("status", "kind")
    search_fields = ("registration_uuid", "order_number")


@admin.register(HubLink)
class HubLinkAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_success_at", "consecutive_failures", "next_attempt_at")
