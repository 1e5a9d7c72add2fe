"""Admin of the WIP reconciliation: read-only snapshots and runs, "Run reconciliation now".

Snapshots can hold hundreds of thousands of lines, so a snapshot links to its lines' own
(filtered, paginated) list instead of an inline.
"""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils.html import format_html

from integration.models import ErpWipLine, ErpWipSnapshot, ReconciliationRun, ReconciliationVariance
from integration.reconciliation.services import reconciliation_run, run_summary
from mesproject.admin import ReadOnly, ReadOnlyAdmin

RUN_NOW = "run_reconciliation_now"


@admin.register(ErpWipSnapshot)
class ErpWipSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "as_of", "received_at", "received_by", "line_count", "lines_link")
    list_select_related = ("received_by",)
    date_hierarchy = "as_of"
    readonly_fields = ("as_of", "received_at", "received_by", "line_count", "lines_link")

    @admin.display(description="Lines")
    def lines_link(self, snapshot):
        url = reverse("admin:integration_erpwipline_changelist")
        return format_html(
            '<a href="{}?snapshot__id__exact={}">{} line(s)</a>',
            url,
            snapshot.pk,
            snapshot.line_count,
        )


@admin.register(ErpWipLine)
class ErpWipLineAdmin(ReadOnlyAdmin):
    list_display = ("wo_id", "component_part", "quantity", "uom", "snapshot")
    list_select_related = ("snapshot",)
    list_filter = ("snapshot",)
    search_fields = ("wo_id", "component_part")
    readonly_fields = ("snapshot", "wo_id", "component_part", "quantity", "uom")


class VarianceInline(ReadOnly, admin.TabularInline):
    model = ReconciliationVariance
    fields = (
        "wo_id",
        "component_part",
        "erp_quantity",
        "mes_quantity",
        "variance",
        "variance_pct",
        "adjusted",
        "audit_flag",
        "note",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "trigger",
        "started_by",
        "status",
        "pairs_total",
        "variances_flagged",
        "adjustment_journal",
        "finished_at",
    )
    list_filter = ("status", "trigger")
    list_select_related = ("adjustment_journal",)
    readonly_fields = (
        "snapshot",
        "trigger",
        "started_by",
        "status",
        "started_at",
        "finished_at",
        "pairs_total",
        "pairs_done",
        "variances_flagged",
        "adjustment_journal",
        "error",
    )
    inlines = [VarianceInline]
    actions = [RUN_NOW]

    def has_run_permission(self, request):
        return request.user.has_perm("integration.add_reconciliationrun")

    @admin.action(description="Run reconciliation now", permissions=["run"])
    def run_reconciliation_now(self, request, queryset):
        # The selection does not matter: a run always compares the latest snapshot.
        run = reconciliation_run(
            trigger="button", actor_label=f"user:{request.user.get_username()}"
        )
        level = messages.WARNING if run.variances_flagged else messages.SUCCESS
        self.message_user(request, run_summary(run), level)

    def changelist_view(self, request, extra_context=None):
        # Admin actions refuse to run without a selected row; this one needs none.
        if (
            request.method == "POST"
            and request.POST.get("action") == RUN_NOW
            and not request.POST.getlist(ACTION_CHECKBOX_NAME)
        ):
            post = request.POST.copy()
            post.setlist(ACTION_CHECKBOX_NAME, ["0"])
            request.POST = post
        return super().changelist_view(request, extra_context)
