"""Raw registrations in the admin: the processing log. Registrations come from terminals and
are never edited; a supervisor can only Process again (failed) or Cancel (new or failed),
through the services, as on the processing log page."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import truncatechars
from django.urls import path, reverse

from mesproject.admin import ReadOnly

from ..choices import RegistrationStatus
from ..models import ProcessingLogEntry, RawRegistration
from ..pages.corrections import CORRECT_PERMISSION
from ..pages.processing_log.views import registrations_act
from ..services.correction_checks import CORRECTABLE_KINDS


class ProcessingLogEntryInline(ReadOnly, admin.TabularInline):
    model = ProcessingLogEntry
    fields = ("at", "outcome", "actor", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Processing log"


@admin.register(RawRegistration)
class RawRegistrationAdmin(admin.ModelAdmin):
    """The processing log. Registrations come from terminals and are never edited; a
    supervisor can only Process again (failed) or Cancel (new or failed)."""

    change_form_template = "admin/execution/rawregistration/change_form.html"
    list_display = (
        "uuid",
        "kind",
        "status",
        "occurred_at",
        "worker_badge",
        "order_number",
        "job",
        "attempts",
        "error_code",
        "short_error",
    )
    list_select_related = ("worker", "order", "job__order")
    list_filter = ("status", "kind", "source", "occurred_at")
    date_hierarchy = "occurred_at"
    search_fields = ("uuid", "worker__badge_id", "order__number", "error", "error_code", "lane")
    ordering = ("-occurred_at", "-id")
    inlines = [ProcessingLogEntryInline]
    actions = ["process_again_selected", "cancel_selected"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "uuid",
                    "kind",
                    "status",
                    "lane",
                    "occurred_at",
                    "received_at",
                    "source",
                )
            },
        ),
        (
            "Who and what",
            {
                "fields": (
                    "worker",
                    "terminal",
                    "resource",
                    "order",
                    "job",
                    "bundle_uuid",
                    "bundle_size",
                )
            },
        ),
        (
            "Reported",
            {
                "fields": (
                    "quantity",
                    "quantity_good",
                    "quantity_scrap",
                    "reason_code",
                    "stops_job",
                    "completes_job",
                    "absence_code",
                    "absence_minutes",
                    "indirect_activity",
                    "lot_number",
                    "location",
                    "material",
                    "consume",
                    "note",
                )
            },
        ),
        ("Processing", {"fields": ("attempts", "processed_at", "error_code", "error")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in RawRegistration._meta.fields if field.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Nothing on the form is editable: registrations change only through the services."""

    @admin.display(description="worker", ordering="worker__badge_id")
    def worker_badge(self, obj):
        return obj.worker.badge_id if obj.worker_id else ""

    @admin.display(description="order", ordering="order__number")
    def order_number(self, obj):
        return obj.order.number if obj.order_id else ""

    @admin.display(description="error")
    def short_error(self, obj):
        return truncatechars(obj.error, 60)

    # Actions: buttons on the change page and bulk actions, both through the services.

    def get_urls(self):
        return [
            path(
                "<int:object_id>/process-again/",
                self.admin_site.admin_view(self.process_again_view),
                name="execution_rawregistration_process_again",
            ),
            path(
                "<int:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="execution_rawregistration_cancel",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        registration = self.get_object(request, object_id)
        if registration is not None:
            can_act = self.has_change_permission(request, registration)
            status = registration.status
            extra_context.update(
                can_process_again=can_act and status == RegistrationStatus.FAILED,
                can_cancel=can_act
                and status in (RegistrationStatus.NEW, RegistrationStatus.FAILED),
                # The correction page (execution/pages/corrections.py) says if it can be now.
                can_correct=request.user.has_perm(CORRECT_PERMISSION)
                and status == RegistrationStatus.PROCESSED
                and registration.kind in CORRECTABLE_KINDS,
            )
        # Nothing to save on this page.
        extra_context.update(
            show_save=False, show_save_and_continue=False, show_save_and_add_another=False
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def _act_view(self, request, object_id, action):
        registration = get_object_or_404(RawRegistration, pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, registration):
            raise PermissionDenied
        registrations_act(
            request, [registration], action, reason=request.POST.get("reason", "").strip()
        )
        return redirect(reverse("admin:execution_rawregistration_change", args=[object_id]))

    def process_again_view(self, request, object_id):
        return self._act_view(request, object_id, "process_again")

    def cancel_view(self, request, object_id):
        return self._act_view(request, object_id, "cancel")

    @admin.action(description="Process again selected registrations", permissions=["change"])
    def process_again_selected(self, request, queryset):
        registrations_act(request, queryset.order_by("occurred_at", "id"), "process_again")

    @admin.action(description="Cancel selected registrations", permissions=["change"])
    def cancel_selected(self, request, queryset):
        registrations_act(request, queryset.order_by("occurred_at", "id"), "cancel")
