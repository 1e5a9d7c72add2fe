"""Admin for the ERP contract: outbox and dead-letter queue (retry, fix, cancel), change
requests (approve, reject), the defect mapping, idempotency keys. Every action goes
through the services."""

import json

from django import forms
from django.contrib import admin, messages
from django.template.defaultfilters import truncatechars

from integration.choices import ChangeRequestStatus, MessageStatus
from integration.erp.services import outbox, work_orders
from integration.models import (
    ChangeRequest,
    DefectReasonMapping,
    ForceCloseRequest,
    IdempotencyKey,
    MaterialIssueBatch,
    OutboxFix,
    OutboxMessage,
)
from mesproject.actors import Actor
from mesproject.admin import ReadOnly, ReadOnlyAdmin
from mesproject.errors import ApplicationError


def _each(modeladmin, request, queryset, action, done: str) -> None:
    """Run a service on every selected row; refusals are reported, not raised."""
    count = 0
    for obj in queryset:
        try:
            action(obj)
            count += 1
        except ApplicationError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)


class OutboxMessageForm(forms.ModelForm):
    payload = forms.JSONField(
        help_text="Only a message in the dead-letter queue can be fixed; saving retries it."
    )

    class Meta:
        model = OutboxMessage
        fields = ["payload"]


class OutboxFixInline(ReadOnly, admin.TabularInline):
    """The bodies IT replaced, with who and when (written by outbox_fix)."""

    model = OutboxFix
    extra = 0
    fields = ("fixed_at", "fixed_by_actor", "payload_before", "payload_after")
    readonly_fields = fields


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    form = OutboxMessageForm
    inlines = [OutboxFixInline]
    list_display = (
        "stream",
        "sequence",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("stream", "=transaction_uuid")
    ordering = ("-created_at", "-id")
    actions = ["retry_selected", "cancel_selected"]
    readonly_fields = (
        "stream",
        "sequence",
        "kind",
        "transaction_uuid",
        "order",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "dead_lettered_at",
        "canceled_by_actor",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # messages are records: never dropped

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.status != MessageStatus.DEAD_LETTER:
            return (*self.readonly_fields, "payload")
        return self.readonly_fields

    @admin.display(description="error")
    def short_error(self, obj):
        return truncatechars(obj.last_error, 60)

    def save_model(self, request, obj, form, change):
        """Fix: the corrected payload is saved and the message retried, through the service."""
        try:
            outbox.outbox_fix(
                message=obj,
                payload=form.cleaned_data["payload"],
                actor=Actor(user=request.user),
            )
            self.message_user(request, f"{obj} fixed; it will be sent again now.")
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    @admin.action(description="Retry selected dead-letter messages", permissions=["change"])
    def retry_selected(self, request, queryset):
        _each(
            self,
            request,
            queryset.order_by("stream", "sequence"),
            lambda m: outbox.outbox_retry(message=m),
            "message(s) will be sent again",
        )

    @admin.action(description="Cancel selected dead-letter messages", permissions=["change"])
    def cancel_selected(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda m: outbox.outbox_cancel(message=m, actor=Actor(user=request.user)),
            "message(s) canceled; the messages they held go on",
        )


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = (
        "order",
        "status",
        "changes_text",
        "requested_at",
        "decided_by_actor",
        "decided_at",
    )
    list_filter = ("status",)
    search_fields = ("order__number",)
    list_select_related = ("order",)
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = (
        "order",
        "changes",
        "status",
        "requested_by_actor",
        "requested_at",
        "decided_by_actor",
        "decided_at",
        "decision_note",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Nothing to save: a request is decided with the actions."""

    @admin.display(description="changes")
    def changes_text(self, obj):
        return ", ".join(f"{k} -> {v}" for k, v in obj.changes.items())

    def _decide(self, request, queryset, service, done):
        _each(
            self,
            request,
            queryset.filter(status=ChangeRequestStatus.PENDING),
            lambda r: service(request=r, actor=Actor(user=request.user)),
            done,
        )

    @admin.action(description="Approve selected change requests", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, work_orders.change_request_approve, "approved and applied")

    @admin.action(description="Reject selected change requests", permissions=["change"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, work_orders.change_request_reject, "rejected")


@admin.register(DefectReasonMapping)
class DefectReasonMappingAdmin(admin.ModelAdmin):
    list_display = ("defect", "erp_reason_code", "cost_center", "is_active")
    list_filter = ("is_active",)
    search_fields = ("defect__code", "erp_reason_code", "cost_center")
    list_select_related = ("defect",)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "method", "path", "state", "response_status", "created_at")
    list_filter = ("state", "method")
    search_fields = ("=key", "path")
    list_select_related = ("user",)
    exclude = ("response_body",)
    readonly_fields = ("answer",)

    @admin.display(description="stored answer")
    def answer(self, obj):
        body = bytes(obj.response_body)
        try:
            return json.dumps(json.loads(body), indent=2)
        except ValueError:
            return body.decode(errors="replace")[:5000]


@admin.register(MaterialIssueBatch)
class MaterialIssueBatchAdmin(ReadOnlyAdmin):
    list_display = ("order", "item", "lot_number", "quantity", "unit", "postings", "opened_at")
    list_select_related = ("order", "item", "unit")
    search_fields = ("order__number", "item__part_number")


@admin.register(ForceCloseRequest)
class ForceCloseRequestAdmin(ReadOnlyAdmin):
    list_display = ("order", "requested_by_actor", "requested_at", "closed_at")
    list_select_related = ("order",)
