"""Reads of the planner's pages: the production order list and everything an order page
shows.

Each reader runs a fixed number of queries, whatever the number of orders, lines, jobs or
journal rows: the pages built on them must not grow a query per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, F, IntegerField, QuerySet, Sum, Value, When

from inventory import selectors as inventory_selectors
from inventory.choices import FlushingPrinciple
from inventory.fields import ZERO, exact
from inventory.models import OnHand, Reservation
from mesproject.errors import ApplicationError
from orders.choices import OrderStatus
from orders.models import BomLine, ProductionOrder, Resource, RouteOperation

from ...models import Job, LogbookEntry, PickingListLine, ReportAsFinishedLine, RouteCardLine
from ...services import order_lifecycle
from ...services.materials import material_requirement, order_parent_quantity, order_reference

# Sortable columns of the order list: URL key -> ORDER BY field.
ORDER_SORTS = {
    "number": "number",
    "item": "item__part_number",
    "quantity": "quantity",
    "status": "status_rank",
    "scheduled_start": "scheduled_start",
    "priority": "priority",
}


def production_order_list(*, sort: str = "") -> QuerySet[ProductionOrder]:
    """Orders with what a list row shows (one query), sorted; OrderListFilter filters them.

    sort: a key of ORDER_SORTS, "-" for descending; anything else keeps the newest first.
    """
    orders = ProductionOrder.objects.select_related("item", "unit", "site").annotate(
        status_rank=Case(
            *(When(status=s, then=Value(rank)) for rank, s in enumerate(OrderStatus)),
            default=Value(len(OrderStatus)),
            output_field=IntegerField(),
        )
    )
    column = ORDER_SORTS.get(sort.lstrip("-"))
    if column is None:
        return orders.order_by("-created_at", "-id")
    descending = sort.startswith("-")
    # Orders without a scheduled start go last either way; the id keeps pages stable.
    key = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    return orders.order_by(key, "-id" if descending else "id")


# --- The order page -----------------------------------------------------------------------


@dataclass
class MaterialRow:
    """One material line (or, before release, one BOM line) with its requirement and stock."""

    line_number: int
    component: object
    quantity_per: Decimal
    scrap_allowance_pct: Decimal
    principle: str
    principle_label: str
    principle_is_default: bool
    operation_number: int | None
    resource: Resource | None
    required: Decimal | None
    consumed: Decimal
    reserved_open: Decimal
    at_input: Decimal | None
    from_bom: bool

    @property
    def short_at_input(self) -> Decimal | None:
        """What the input location lacks for the rest of the requirement."""
        if self.required is None or self.at_input is None:
            return None
        return max(ZERO, self.required - self.consumed - self.at_input)


@dataclass
class Journal:
    """The latest rows of one journal of the order, and how many there are in all."""

    rows: list
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.rows)


@dataclass
class OrderPage:
    order: ProductionOrder
    materials: list[MaterialRow]
    materials_note: str
    reservations: list[Reservation]
    shortages: dict[int, Decimal]
    jobs: list[Job]
    steps: Journal
    picking_list: Journal
    route_card: Journal
    report_as_finished: Journal
    logbook: Journal
    history: Journal
    transitions: list[tuple[str, list[str]]] = field(default_factory=list)


def _latest(queryset, limit: int) -> Journal:
    return Journal(rows=list(queryset[:limit]), count=queryset.count())


def _route_operations(order: ProductionOrder) -> list[RouteOperation]:
    """The released route's operations, or those of the item revision's route."""
    operations = RouteOperation.objects.select_related("resource__input_location")
    if order.route_id:
        operations = operations.filter(route_id=order.route_id)
    else:
        operations = operations.filter(route__item_id=order.item_id, route__revision=order.revision)
    return list(operations.order_by("operation_number"))


def _principle(line) -> tuple[str, str, bool]:
    """The effective flushing principle (None = the component item's default)."""
    value = line.effective_flushing_principle
    return value, FlushingPrinciple(value).label, line.flushing_principle == "none"


def order_page(*, order: ProductionOrder, limit: int = 20) -> OrderPage:
    """Everything the order page shows, in a fixed number of queries.

    Material requirements follow execution.services.materials (order quantity in the
    product's unit x quantity per x (1 + scrap allowance)); the stock shown per line is the
    on-hand at the input location of the resource of the line's operation (no operation:
    the route's first one), where automatic consumption takes it from.
    """
    operations = _route_operations(order)
    by_number = {op.operation_number: op for op in operations}
    first = operations[0] if operations else None
    try:
        parent_quantity = order_parent_quantity(order)
        note = ""
    except ApplicationError as error:
        parent_quantity, note = None, error.message

    materials = list(
        order.materials.select_related("component__unit", "consumption_state").order_by(
            "line_number"
        )
    )
    from_bom = not materials and order.status == OrderStatus.CREATED
    lines = materials
    if from_bom:
        # Not exploded until release: show the BOM it would be released with.
        lines = list(
            BomLine.objects.filter(bom__item_id=order.item_id, bom__revision=order.revision)
            .select_related("component__unit")
            .order_by("line_number")
        )
        if lines:
            note = note or "Not released yet: the lines of the BOM the release will copy."

    reservations = list(inventory_selectors.order_reservations(order_ref=order_reference(order)))
    reserved = {r.source_id: r.quantity_open for r in reservations}
    shortages = {
        s.reservation_id: s.quantity_short
        for s in inventory_selectors.material_shortages(order_ref=order_reference(order))
    }
    for reservation in reservations:
        # Live: what the site's on-hand does not cover now (not as of the last reservation).
        reservation.short_now = shortages.get(reservation.pk, ZERO)

    def operation_of(line):
        return by_number.get(line.operation_number) if line.operation_number else first

    pairs = set()
    for line in lines:
        op = operation_of(line)
        if op is not None and op.resource.input_location_id:
            pairs.add((line.component_id, op.resource.input_location_id))
    on_hand: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    if pairs:
        rows = (
            OnHand.objects.filter(
                item_id__in={p[0] for p in pairs}, location_id__in={p[1] for p in pairs}
            )
            .values_list("item_id", "location_id")
            .annotate(total=Sum("quantity"))
            .order_by()
        )
        for item_id, location_id, total in rows:
            on_hand[(item_id, location_id)] = exact(total)

    material_rows = []
    for line in lines:
        op = operation_of(line)
        resource = op.resource if op else None
        location_id = resource.input_location_id if resource else None
        state = None if from_bom else getattr(line, "consumption_state", None)
        principle, label, is_default = _principle(line)
        material_rows.append(
            MaterialRow(
                line_number=line.line_number,
                component=line.component,
                quantity_per=line.quantity_per,
                scrap_allowance_pct=line.scrap_allowance_pct,
                principle=principle,
                principle_label=label,
                principle_is_default=is_default,
                operation_number=line.operation_number,
                resource=resource,
                required=(
                    material_requirement(line, parent_quantity)
                    if parent_quantity is not None
                    else None
                ),
                consumed=(state.consumed + state.manual_consumed) if state else ZERO,
                reserved_open=ZERO if from_bom else reserved.get(str(line.pk), ZERO),
                at_input=on_hand[(line.component_id, location_id)] if location_id else None,
                from_bom=from_bom,
            )
        )

    jobs = list(order.jobs.select_related("resource").order_by("operation_number", "kind", "id"))
    return OrderPage(
        order=order,
        materials=material_rows,
        materials_note=note,
        reservations=reservations,
        shortages=shortages,
        jobs=jobs,
        steps=_latest(order.steps.order_by("sequence"), limit * 5),
        picking_list=_latest(
            PickingListLine.objects.filter(order=order)
            .select_related("component__unit", "lot", "location")
            .order_by("-created_at", "-id"),
            limit,
        ),
        route_card=_latest(
            RouteCardLine.objects.filter(order=order)
            .select_related("resource", "worker", "reason_code")
            .order_by("-ended_at", "-id"),
            limit,
        ),
        report_as_finished=_latest(
            ReportAsFinishedLine.objects.filter(order=order)
            .select_related("lot", "location")
            .order_by("-created_at", "-id"),
            limit,
        ),
        logbook=_latest(
            LogbookEntry.objects.filter(order=order)
            .select_related("worker", "job")
            .order_by("-at", "-id"),
            limit,
        ),
        history=_latest(order.transition_log.select_related("user").order_by("-at", "-id"), limit),
        transitions=order_lifecycle.allowed_transitions(order=order),
    )
