"""Browser pages of the WIP reconciliation: the runs, one run's variances, "Run now".

Viewing needs integration.view_reconciliationrun; running needs
integration.add_reconciliationrun. "Run now" runs the service in the request (a run is a few
constant queries plus the flagged lines) and reports its counts on the run's page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from inventory.fields import show

from .models import ReconciliationRun
from .services.reconciliation import reconciliation_run, run_summary

PAGE_SIZE = 50
VIEW_PERMISSION = "integration.view_reconciliationrun"
RUN_PERMISSION = "integration.add_reconciliationrun"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def reconciliation_list(request):
    if request.method == "POST":
        _require(request, RUN_PERMISSION)
        run = reconciliation_run(
            trigger="button", actor_label=f"user:{request.user.get_username()}"
        )
        level = messages.WARNING if run.variances_flagged else messages.SUCCESS
        messages.add_message(request, level, run_summary(run))
        return redirect("integration-pages:reconciliation-detail", pk=run.pk)
    _require(request, VIEW_PERMISSION)
    runs = ReconciliationRun.objects.select_related("snapshot", "adjustment_journal").order_by(
        "-started_at", "-id"
    )
    return render(
        request,
        "integration/reconciliation_list.html",
        {
            "page": Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page")),
            "can_run": request.user.has_perm(RUN_PERMISSION),
        },
    )


@login_required
@require_GET
def reconciliation_detail(request, pk: int):
    _require(request, VIEW_PERMISSION)
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
    return render(request, "integration/reconciliation_detail.html", {"run": run, "page": page})
