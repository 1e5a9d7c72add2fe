"""Booking a run's variances: one audit-flagged adjustment journal at the location (and lot)
the order last drew the component from."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, Prefetch, Subquery

from integration.models import (
    ErpWipSnapshot,
    ReconciliationRun,
)
from integration.reconciliation.services.compare import Pair, Variance
from inventory.choices import SourceType, Tracking, TransactionKind
from inventory.fields import show
from inventory.models import InventoryTransaction, Item, Location, Lot
from inventory.services import (
    JournalLineInput,
    Source,
    adjustment_journal_create,
    adjustment_journal_line_check,
    adjustment_journal_post,
)
from mesproject.actors import Actor
from mesproject.errors import ApplicationError
from orders.models import ProductionOrder, RouteOperation


def _last_issues(flagged: list[Variance]) -> dict[Pair, InventoryTransaction]:
    """The latest issue of each flagged order and component (its location and lot)."""
    latest = (
        InventoryTransaction.objects.filter(
            kind=TransactionKind.ISSUE,
            order_ref__in={v.wo_id for v in flagged},
            item__part_number__in={v.part for v in flagged},
        )
        .values("order_ref", "item_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    issues = InventoryTransaction.objects.filter(pk__in=Subquery(latest)).select_related(
        "item", "location", "lot"
    )
    return {(issue.order_ref, issue.item.part_number): issue for issue in issues}


def _first_input_locations(wo_ids: Iterable[str]) -> dict[str, Location | None]:
    """Per order: the input location of the resource of its route's first operation."""
    orders = ProductionOrder.objects.filter(number__in=set(wo_ids)).prefetch_related(
        Prefetch(
            "route__operations",
            queryset=RouteOperation.objects.select_related("resource__input_location").order_by(
                "operation_number"
            ),
        )
    )
    found: dict[str, Location | None] = {}
    for order in orders:
        operations = list(order.route.operations.all()) if order.route_id else []
        found[order.number] = operations[0].resource.input_location if operations else None
    return found


def _journal_lines(flagged: list[Variance]) -> list[tuple[Variance, JournalLineInput]]:
    """The journal line of each variance that can be booked; the others get a note why."""
    items = {
        item.part_number: item
        for item in Item.objects.select_related("unit").filter(
            part_number__in={v.part for v in flagged}
        )
    }
    issues = _last_issues(flagged)
    missing = {v.wo_id for v in flagged if (v.wo_id, v.part) not in issues}
    fallbacks = _first_input_locations(missing) if missing else {}
    lines = []
    for variance in flagged:
        item = items.get(variance.part)
        if item is None:
            variance.note = f"part {variance.part} is unknown in the MES: not adjusted"
            continue
        issue = issues.get((variance.wo_id, variance.part))
        location = issue.location if issue else fallbacks.get(variance.wo_id)
        if location is None:
            why = (
                "order unknown in the MES"
                if variance.wo_id not in fallbacks
                else "no issue of this part to the order and no input location on the "
                "resource of its first operation"
            )
            variance.note = f"no location to adjust at ({why}): not adjusted"
            continue
        # A tracked component is booked against the lot last issued to the order.
        lot: Lot | None = issue.lot if issue and item.tracking != Tracking.NONE else None
        line = JournalLineInput(
            item=item,
            location=location,
            quantity=-variance.variance,
            lot=lot,
            order_ref=variance.wo_id,
            note=f"ERP {show(variance.erp)}, MES {show(variance.mes)}",
        )
        try:
            adjustment_journal_line_check(
                item=line.item,
                location=line.location,
                quantity=line.quantity,
                lot=line.lot,
                order_ref=line.order_ref,
            )
        except ApplicationError as error:
            variance.note = f"not adjusted: {error.message}"[:300]
            continue
        variance.adjusted = True
        lines.append((variance, line))
    return lines


def book(run: ReconciliationRun, snapshot: ErpWipSnapshot, flagged: list[Variance]):
    """One audit-flagged journal for every bookable variance, posted if stock allows."""
    booked = _journal_lines(flagged)
    if not booked:
        return None
    actor = Actor(process=f"wip-reconciliation {run.started_by}")
    journal = adjustment_journal_create(
        reason=f"WIP reconciliation run {run.pk}",
        reason_code="WIPREC",
        description=f"ERP WIP as of {snapshot.as_of:%Y-%m-%d %H:%M}",
        audit_flag=True,
        lines=[line for _variance, line in booked],
        actor=actor,
        source=Source(SourceType.ERP_MESSAGE, f"erp-wip-snapshot:{snapshot.pk}"),
    )
    try:
        # A savepoint: a refused posting must not take the draft journal with it.
        with transaction.atomic():
            journal = adjustment_journal_post(journal=journal, actor=actor)
    except ApplicationError as error:
        for variance, _line in booked:
            variance.adjusted = False
            variance.note = f"journal left as draft: {error.message}"[:300]
    return journal
