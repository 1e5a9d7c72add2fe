"""Floor master data in the admin: pay agreements, workers (with their write-only PIN),
terminals (with their API token), absence codes and indirect activities."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from ..models import (
    AbsenceCode,
    IndirectActivity,
    PayAgreement,
    Terminal,
    Worker,
)
from ..services.senders import terminal_issue_token
from ..services.terminal import PIN_MAX_DIGITS, PIN_MIN_DIGITS, worker_set_pin


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
