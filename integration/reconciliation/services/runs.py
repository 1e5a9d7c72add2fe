"""A reconciliation run: its row, the comparison and booking in one transaction, the
notifications, and its one-line summary."""

from collections.abc import Callable

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from integration.choices import NotificationKind, RunStatus
from integration.models import (
    ErpWipSnapshot,
    Notification,
    ReconciliationRun,
    ReconciliationVariance,
)
from integration.reconciliation.services.booking import book
from integration.reconciliation.services.compare import (
    ACTIVE_STATUSES,
    BATCH_SIZE,
    compare,
    erp_figures,
    mes_figures,
    unreported,
)
from mesproject.locks import lock_row
from mesproject.roles import IT, SUPERVISOR
from orders.models import ProductionOrder

NO_SNAPSHOT = "no ERP WIP snapshot received"


def run_link(run: ReconciliationRun) -> str:
    """The run's page; empty in a URLconf without the browser pages."""
    try:
        return reverse("integration-pages:reconciliation-detail", args=[run.pk])
    except NoReverseMatch:
        # A URLconf without the browser pages (a worker-only deployment): no link.
        return ""


def _notify(run: ReconciliationRun, *, adjusted: int) -> None:
    title = f"WIP reconciliation: {run.variances_flagged} variance(s) flagged for audit"
    text = (
        f"Run {run.pk} compared {run.pairs_total} order/component pairs with the ERP WIP; "
        f"{run.variances_flagged} differ beyond the threshold, {adjusted} were booked to match "
        "the ERP. Look for the physical cause of each."
    )
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            kind=NotificationKind.RECONCILIATION,
            role=role,
            title=title,
            text=text,
            link=run_link(run),
            dedup_key=f"reconciliation-run:{run.pk}",
            created_at=now,
        )
        for role in (SUPERVISOR, IT)
    )


def _reconcile(
    run: ReconciliationRun, on_progress: Callable[[int, int], None] | None
) -> ReconciliationRun:
    # Lock first, read after: a concurrent run of this snapshot waits here until this one
    # committed, then sees its adjustments. NO KEY: new runs may still reference the row.
    snapshot = lock_row(ErpWipSnapshot, run.snapshot_id)
    active = set(
        ProductionOrder.objects.filter(status__in=ACTIVE_STATUSES).values_list("number", flat=True)
    )
    total, flagged = compare(
        erp_figures(snapshot), mes_figures(snapshot), unreported(), active, on_progress
    )
    journal = book(run, snapshot, flagged) if flagged else None
    ReconciliationVariance.objects.bulk_create(
        (
            ReconciliationVariance(
                run=run,
                wo_id=v.wo_id,
                component_part=v.part,
                erp_quantity=v.erp,
                mes_quantity=v.mes,
                variance=v.variance,
                variance_pct=v.pct,
                adjusted=v.adjusted,
                audit_flag=True,
                note=v.note,
            )
            for v in flagged
        ),
        batch_size=BATCH_SIZE,
    )
    run.pairs_total = run.pairs_done = total
    run.variances_flagged = len(flagged)
    run.adjustment_journal = journal
    run.status = RunStatus.DONE
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "pairs_total",
            "pairs_done",
            "variances_flagged",
            "adjustment_journal",
            "status",
            "finished_at",
        ]
    )
    if flagged:
        _notify(run, adjusted=sum(v.adjusted for v in flagged))
    return run


def reconciliation_run(
    *,
    trigger: str,
    actor_label: str,
    snapshot: ErpWipSnapshot | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReconciliationRun:
    """Compare the snapshot (the latest by default) with the MES WIP and book what differs.

    on_progress(done, total) is called every 5,000 pairs and at the end.
    """
    snapshot = snapshot or ErpWipSnapshot.objects.order_by("-as_of", "-id").first()
    now = timezone.now()
    if snapshot is None:
        return ReconciliationRun.objects.create(
            trigger=trigger[:16],
            started_by=actor_label[:64],
            status=RunStatus.DONE,
            started_at=now,
            finished_at=now,
            error=NO_SNAPSHOT,
        )
    # Committed on its own, so the run shows as running and a crash has a row to mark.
    run = ReconciliationRun.objects.create(
        snapshot=snapshot, trigger=trigger[:16], started_by=actor_label[:64], started_at=now
    )
    try:
        with transaction.atomic():
            return _reconcile(run, on_progress)
    except Exception as error:
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        raise


def run_summary(run: ReconciliationRun) -> str:
    """One line for people: what a run compared and found."""
    if run.status == RunStatus.FAILED:
        return f"Reconciliation run {run.pk} failed: {run.error}"
    if run.snapshot_id is None:
        return f"Reconciliation run {run.pk}: {run.error or NO_SNAPSHOT}."
    journal = f", adjustment journal {run.adjustment_journal}" if run.adjustment_journal else ""
    return (
        f"Reconciliation run {run.pk}: {run.pairs_total} pair(s) compared, "
        f"{run.variances_flagged} variance(s) flagged{journal}."
    )
