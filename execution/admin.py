"""Floor master data, jobs (the operational plan), the processing log and the production
journals in the admin. Journals are written by the processor only: their admins are read-only;
registrations change only through the services (Process again, Cancel)."""

import importlib.util

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import truncatechars
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from mesproject.actors import Actor
from mesproject.admin import ReadOnly, ReadOnlyAdmin
from mesproject.errors import ApplicationError

from .choices import RegistrationStatus
from .models import (
    AbsenceCode,
    GenealogyLink,
    IndirectActivity,
    Job,
    JobActivity,
    LogbookEntry,
    MaterialLineState,
    PayAgreement,
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
    Terminal,
    Worker,
)
from .pages.corrections import CORRECT_PERMISSION
from .pages.processing_log.views import registrations_act
from .services.corrections import CORRECTABLE_KINDS
from .services.jobs import job_plan_change
from .services.senders import terminal_issue_token
from .services.terminal import PIN_MAX_DIGITS, PIN_MIN_DIGITS, worker_set_pin


@admin.register(PayAgreement)
class PayAgreementAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "standard_minutes_per_day", "overtime_after_minutes")


class WorkerForm(forms.ModelForm):
    """The PIN is write-only: typed here, stored hashed by the service, never shown."""

    new_pin = forms.CharField(
        label="New PIN",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="4 to 8 digits, for signing in at a terminal. Leave empty to keep the PIN.",
    )

    class Meta:
        model = Worker
        fields = ("badge_id", "name", "site", "pay_agreement", "is_active")

    def clean_new_pin(self):
        pin = self.cleaned_data["new_pin"].strip()
        if pin and not (pin.isdigit() and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS):
            raise ValidationError(f"A PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits.")
        return pin


@admin.register(Worker)
class WorkerAdmin(SimpleHistoryAdmin):
    form = WorkerForm
    list_display = ("badge_id", "name", "site", "pay_agreement", "is_active")
    list_select_related = ("site", "pay_agreement")
    list_filter = ("site", "pay_agreement", "is_active")
    search_fields = ("badge_id", "name")

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("new_pin"):
            worker_set_pin(worker=obj, pin=form.cleaned_data["new_pin"])


@admin.register(Terminal)
class TerminalAdmin(SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "resource",
        "report_as_finished_consumes",
        "is_active",
        "has_credential",
    )
    list_select_related = ("resource",)
    list_filter = ("resource", "is_active")
    search_fields = ("code", "name")
    # The account comes with the token (the action below), never chosen by hand: an account
    # picked here could be a person's, whose token would then post as the terminal.
    readonly_fields = ("user",)
    actions = ["issue_token"]

    @admin.display(boolean=True, description="API credential")
    def has_credential(self, obj) -> bool:
        return obj.user_id is not None

    @admin.action(
        description="Issue a new API token (replaces the old one)", permissions=["change"]
    )
    def issue_token(self, request, queryset):
        for terminal in queryset.order_by("code"):
            key = terminal_issue_token(terminal=terminal)
            self.message_user(
                request,
                f"Terminal {terminal.code}: new API token {key} (shown once: set it on the "
                "device now; the previous token no longer works).",
                messages.WARNING,
            )


@admin.register(AbsenceCode)
class AbsenceCodeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "description", "paid")


@admin.register(IndirectActivity)
class IndirectActivityAdmin(SimpleHistoryAdmin):
    list_display = ("code", "description", "paid")


# --- Jobs: the operational plan -------------------------------------------------------------


class _DryRun(Exception):
    """Rolls back the trial run of a plan change made to validate the form."""


class JobPlanForm(forms.ModelForm):
    """Sequence, resource and hold: what a supervisor may change, through job_plan_change."""

    class Meta:
        model = Job
        fields = ("sequence", "resource", "on_hold")

    def plan_changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.fields}

    def clean(self):
        data = super().clean()
        if self.errors or self.instance.pk is None:
            return data
        changes = self.plan_changes()
        if not changes:
            return data
        # The rules are the service's: ask it, in a savepoint rolled back at once, so that a
        # refusal shows on the form (next to the row in the list) instead of after saving.
        try:
            with transaction.atomic():
                job_plan_change(job=self.instance, **changes)
                raise _DryRun
        except _DryRun:
            pass
        except ApplicationError as error:
            raise ValidationError(error.message, code=error.code) from error
        return data


@admin.register(Job)
class JobAdmin(SimpleHistoryAdmin):
    """Jobs are made by release; the plan (sequence, resource, hold) is what people change
    here, through job_plan_change."""

    form = JobPlanForm
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
    list_display_links = ("order",)
    list_editable = ("sequence",)
    list_select_related = ("order", "resource")
    list_filter = ("resource", "status", "on_hold", "kind")
    search_fields = ("order__number", "operation_name")
    readonly_fields = (
        "order",
        "operation_number",
        "operation_name",
        "kind",
        "planned_quantity",
        "planned_minutes",
        "status",
        "quantity_started",
        "quantity_good",
        "quantity_scrapped",
        "started_at",
        "completed_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist_form(self, request, **kwargs):
        # The list's sequence column is checked and saved like the change page.
        kwargs.setdefault("form", JobPlanForm)
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request, obj, form, change):
        changes = form.plan_changes()
        if not changes:
            return
        try:
            saved = job_plan_change(job=obj, actor=Actor(user=request.user), **changes)
        except ApplicationError as error:  # changed by someone else since the form was checked
            self.message_user(request, error.message, messages.ERROR)
            obj.refresh_from_db()
            return
        obj.sequence, obj.resource, obj.on_hold = saved.sequence, saved.resource, saved.on_hold


# --- Raw registrations: the processing log ---------------------------------------------------


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


# --- Production journals: written by the processor, read here ---------------------------------


@admin.register(ProcessingLogEntry)
class ProcessingLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "registration", "outcome", "actor", "message")
    list_select_related = ("registration",)
    list_filter = ("outcome", "at")
    search_fields = ("registration__uuid", "actor", "message")
    date_hierarchy = "at"


@admin.register(RouteCardLine)
class RouteCardLineAdmin(ReadOnlyAdmin):
    list_display = (
        "ended_at",
        "order",
        "operation_number",
        "job_kind",
        "resource",
        "worker",
        "started_at",
        "minutes",
        "bundle_size",
        "quantity_good",
        "quantity_scrap",
        "reason_code",
    )
    list_select_related = ("order", "resource", "worker", "reason_code")
    list_filter = ("job_kind", "resource", "ended_at")
    search_fields = ("order__number", "worker__badge_id", "worker__name", "registration__uuid")
    date_hierarchy = "ended_at"


@admin.register(PickingListLine)
class PickingListLineAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "order",
        "component",
        "lot",
        "location",
        "quantity",
        "principle",
        "event",
        "operation_number",
        "registration",
    )
    list_select_related = ("order", "component", "lot", "location__warehouse__site", "registration")
    list_filter = ("principle", "event", "created_at")
    search_fields = ("order__number", "component__part_number", "lot__number", "registration__uuid")
    date_hierarchy = "created_at"


@admin.register(ReportAsFinishedLine)
class ReportAsFinishedLineAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "order",
        "item",
        "quantity_good",
        "quantity_scrap",
        "lot",
        "location",
        "registration",
    )
    list_select_related = ("order", "item", "lot", "location__warehouse__site", "registration")
    list_filter = ("created_at",)
    search_fields = ("order__number", "item__part_number", "lot__number", "registration__uuid")
    date_hierarchy = "created_at"


@admin.register(GenealogyLink)
class GenealogyLinkAdmin(ReadOnlyAdmin):
    list_display = ("order", "finished_lot", "component_lot", "component", "quantity")
    list_select_related = ("order", "finished_lot", "component_lot__item")
    search_fields = ("order__number", "finished_lot__number", "component_lot__number")

    @admin.display(description="component", ordering="component_lot__item__part_number")
    def component(self, obj):
        return obj.component_lot.item.part_number


@admin.register(LogbookEntry)
class LogbookEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "order", "job", "worker", "text")
    list_select_related = ("order", "job__order", "worker")
    list_filter = ("kind", "at")
    search_fields = ("text", "order__number", "worker__badge_id", "worker__name")
    date_hierarchy = "at"


@admin.register(JobActivity)
class JobActivityAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "ended_at", "worker", "job", "bundle_uuid")
    list_select_related = ("worker", "job__order")
    list_filter = ("started_at",)
    search_fields = ("worker__badge_id", "worker__name", "job__order__number")
    date_hierarchy = "started_at"


@admin.register(MaterialLineState)
class MaterialLineStateAdmin(ReadOnlyAdmin):
    list_display = ("material", "covered_output", "consumed", "manual_consumed")
    list_select_related = ("material__order", "material__component")
    search_fields = ("material__order__number", "material__component__part_number")


# Time and attendance lives in its own module (written alongside); load it when present.
if importlib.util.find_spec("execution.admin_attendance") is not None:
    from . import admin_attendance  # noqa: F401

# The order admin, extended with the release's shortage confirmation.
from . import admin_orders  # noqa: E402, F401
