"""Attendance days in the admin: supervisors review, calculate again, approve and transfer.

Days are made by the calculation, never by hand, and every status change goes through
execution.services.attendance; a refusal is a message, not a 500.
"""

from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from mesproject.actors import Actor
from mesproject.errors import ApplicationError

from ..models import AttendanceDay
from ..pages.supervisor.attendance import MINUTE_FIELDS, csv_response
from ..services import attendance as services
from ..services.attendance_pay import attendance_days_transfer, pay_basis_csv


@admin.register(AttendanceDay)
class AttendanceDayAdmin(SimpleHistoryAdmin):
    list_display = (
        "date",
        "worker",
        "status",
        *MINUTE_FIELDS,
        "approved_by_actor",
    )
    list_select_related = ("worker",)
    list_filter = ("status", "date", "worker__site")
    search_fields = ("worker__badge_id", "worker__name")
    date_hierarchy = "date"
    readonly_fields = (
        "worker",
        "date",
        "status",
        *MINUTE_FIELDS,
        "calculated_at",
        "approved_by_actor",
        "approved_at",
        "transferred_at",
    )
    actions = [
        "calculate_again",
        "approve_selected",
        "unapprove_selected",
        "transfer_selected",
        "export_pay_basis",
    ]

    def has_add_permission(self, request):
        return False  # days come from the calculation (calculate_attendance, Calculate again)

    def has_delete_permission(self, request, obj=None):
        return False  # an approved or paid day is a record; a calculated one is recalculated

    def _each(self, request, queryset, service, verb: str) -> None:
        actor = Actor(user=request.user)
        done, refused = [], []
        for day in queryset.select_related("worker"):
            try:
                service(day=day, actor=actor)
                done.append(str(day))
            except ApplicationError as error:
                refused.append(error.message)
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Calculate again", permissions=["change"])
    def calculate_again(self, request, queryset):
        def calculate(*, day, actor):
            services.attendance_day_calculate(worker=day.worker, date=day.date, actor=actor)

        self._each(request, queryset, calculate, "Calculated")

    @admin.action(description="Approve", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._each(request, queryset, services.attendance_day_approve, "Approved")

    @admin.action(description="Un-approve", permissions=["change"])
    def unapprove_selected(self, request, queryset):
        self._each(request, queryset, services.attendance_day_unapprove, "Un-approved")

    @admin.action(description="Transfer to payroll (CSV)", permissions=["change"])
    def transfer_selected(self, request, queryset):
        days = list(queryset)
        try:
            text = attendance_days_transfer(days=days, actor=Actor(user=request.user))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        return csv_response(days, text)

    @admin.action(description="Export pay basis CSV (no transfer)", permissions=["view"])
    def export_pay_basis(self, request, queryset):
        days = list(queryset.select_related("worker__pay_agreement"))
        return csv_response(days, pay_basis_csv(days=days))
