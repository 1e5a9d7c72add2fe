from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import AbsenceCode, IndirectActivity, Job, PayAgreement, Terminal, Worker


@admin.register(PayAgreement)
class PayAgreementAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "standard_minutes_per_day", "overtime_after_minutes")


@admin.register(Worker)
class WorkerAdmin(SimpleHistoryAdmin):
    list_display = ("badge_id", "name", "site", "pay_agreement", "is_active")
    list_select_related = ("site", "pay_agreement")
    list_filter = ("site", "pay_agreement", "is_active")
    search_fields = ("badge_id", "name")
    exclude = ("pin_hash",)


@admin.register(Terminal)
class TerminalAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "resource", "report_as_finished_consumes", "is_active")
    list_select_related = ("resource",)
    list_filter = ("resource", "is_active")
    search_fields = ("code", "name")


@admin.register(AbsenceCode)
class AbsenceCodeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "description", "paid")


@admin.register(IndirectActivity)
class IndirectActivityAdmin(SimpleHistoryAdmin):
    list_display = ("code", "description", "paid")


@admin.register(Job)
class JobAdmin(SimpleHistoryAdmin):
    """Jobs are made by release; the plan (sequence, hold) is what people change here."""

    list_display = (
        "order",
        "operation_number",
        "kind",
        "resource",
        "sequence",
        "status",
        "on_hold",
        "planned_quantity",
        "quantity_good",
        "quantity_scrapped",
    )
    list_select_related = ("order", "resource")
    list_filter = ("status", "kind", "resource", "on_hold")
    search_fields = ("order__number", "operation_name")
    readonly_fields = (
        "order",
        "operation_number",
        "operation_name",
        "kind",
        "resource",
        "planned_quantity",
        "planned_minutes",
        "status",
        "quantity_good",
        "quantity_scrapped",
        "started_at",
        "completed_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
