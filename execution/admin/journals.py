"""The production journals in the admin, read-only: written by the processor, read here (the
processing log entries, route card, picking list, report as finished, genealogy links,
logbook, job activities and the material lines' consumption state)."""

from django.contrib import admin

from mesproject.admin import ReadOnlyAdmin

from ..models import (
    GenealogyLink,
    JobActivity,
    LogbookEntry,
    MaterialLineState,
    PickingListLine,
    ProcessingLogEntry,
    ReportAsFinishedLine,
    RouteCardLine,
)


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
