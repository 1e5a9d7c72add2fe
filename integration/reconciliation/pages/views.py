"""Browser pages of the WIP reconciliation: the runs, one run's variances and the adjustment
journal it wrote, "Run reconciliation now".

Viewing needs integration.view_reconciliationrun; running needs
integration.add_reconciliationrun. "Run now" starts the run in a worker and sends the
person to its progress page (it:task_progress), which links the run when it is done.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from integration.models import ReconciliationRun
from integration.reconciliation.tasks import reconcile_wip_now
from inventory.fields import show
from inventory.models import InventoryTransaction
from mesproject.background_tasks import TaskNotStarted, task_start

PAGE_SIZE = 50
VIEW_PERMISSION = "integration.view_reconciliationrun"
RUN_PERMISSION = "integration.add_reconciliationrun"
# The journal itself lives in the admin; IT may not have it, so the run page lists its rows.
VIEW_JOURNAL = "inventory.view_adjustmentjournal"


@login_required
@require_http_methods(["GET", "POST"])
def reconciliation_list(request):
    """The runs (GET); "Run reconciliation now" (POST), each with its own permission."""
    if request.method == "POST":
        return _run_now(request)
    return _run_list(request)


@permission_required(RUN_PERMISSION, raise_exception=True)
def _run_now(request):
    try:
        task = task_start(
            reconcile_wip_now,
            label="WIP reconciliation",
            permission=RUN_PERMISSION,
            user=request.user,
            kwargs={"actor_label": f"user:{request.user.get_username()}", "trigger": "button"},
        )
    except TaskNotStarted:
        messages.error(
            request,
            "The reconciliation could not be started: the job queue is not reachable. "
            "Try again in a minute; the nightly run goes ahead anyway.",
        )
        return redirect("integration-pages:reconciliation-list")
    return redirect("it:task_progress", task_id=task.task_id)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def _run_list(request):
    runs = ReconciliationRun.objects.select_related("snapshot", "adjustment_journal").order_by(
        "-started_at", "-id"
    )
    return render(
        request,
        "integration/reconciliation_list.html",
        {
            "page": Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page")),
            "can_run": request.user.has_perm(RUN_PERMISSION),
            "can_open_journal": request.user.has_perm(VIEW_JOURNAL),
        },
    )


@login_required
@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def reconciliation_detail(request, pk: int):
    run = get_object_or_404(
        ReconciliationRun.objects.select_related("snapshot", "adjustment_journal"), pk=pk
    )
    page = Paginator(run.variances.order_by("wo_id", "component_part", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for variance in page:
        # 12.5, not 12.500000: quantities as people write them.
        variance.shown = {
            "erp": show(variance.erp_quantity),
            "mes": show(variance.mes_quantity),
            "variance": show(variance.variance),
        }
    entries = None
    journal = run.adjustment_journal
    if journal is not None and journal.posting_id:
        # The ledger rows the posted journal wrote (they share its posting id).
        rows = (
            InventoryTransaction.objects.filter(posting_id=journal.posting_id)
            .select_related("item", "location__warehouse", "lot", "unit")
            .order_by("id")
        )
        entries = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("entries"))
        for entry in entries:
            entry.shown = show(entry.quantity)
    return render(
        request,
        "integration/reconciliation_detail.html",
        {
            "run": run,
            "page": page,
            "entries": entries,
            "can_run": request.user.has_perm(RUN_PERMISSION),
            "can_open_journal": request.user.has_perm(VIEW_JOURNAL),
        },
    )
