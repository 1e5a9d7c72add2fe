"""Jobs in the admin: the operational plan. Jobs are made by release; sequence, resource and
hold are what people change here, through job_plan_change."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from mesproject.actors import Actor
from mesproject.errors import ApplicationError

from ..models import Job
from ..services.jobs import job_plan_change


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
