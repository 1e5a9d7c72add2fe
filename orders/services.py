"""Every rule that changes production orders and their master data.

Each service is keyword-only and atomic, takes the order's row lock before it reads the
status, and refuses with an ApplicationError subclass that carries a machine-readable code.
"""

import math
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from inventory.fields import ZERO, show
from inventory.models import Item, Site, UnitOfMeasure, validate_quantity_for_unit
from mesproject.actors import SYSTEM, Actor
from mesproject.deployment import refuse_hub_owned
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed
from mesproject.locks import lock_row

from .choices import MANUAL_TRANSITIONS, OrderStatus, Transition
from .models import (
    Bom,
    OrderTransitionLog,
    ProductionOrder,
    ProductionOrderMaterial,
    ProductionOrderStep,
    Route,
)

RUNNING = (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
EDITABLE = (OrderStatus.CREATED, OrderStatus.RELEASED, *RUNNING)


def lock_order(order_id: int) -> ProductionOrder:
    """The order row, locked until the end of the transaction (mesproject.locks)."""
    return lock_row(ProductionOrder, order_id)


# --- Guards -------------------------------------------------------------------------------


def find_release_master_data(order: ProductionOrder) -> tuple[Bom | None, Route | None, list[str]]:
    """The approved BOM and route the order would be released with, and what is missing."""
    missing: list[str] = []
    item = order.item
    if not item.is_active:
        missing.append(f"item {item.part_number} is not active")
    bom = Bom.objects.filter(item=item, revision=order.revision).first()
    if bom is None:
        missing.append(f"no BOM for {item.part_number} rev {order.revision}")
    elif not bom.approved:
        missing.append(f"BOM {item.part_number} rev {order.revision} is not approved")
    route = Route.objects.filter(item=item, revision=order.revision).first()
    if route is None:
        missing.append(f"no route for {item.part_number} rev {order.revision}")
    elif not route.approved:
        missing.append(f"route {item.part_number} rev {order.revision} is not approved")
    elif not route.operations.exists():
        missing.append(f"route {item.part_number} rev {order.revision} has no operations")
    ok = not missing
    return (bom if ok else None), (route if ok else None), missing


def _close_reasons(order: ProductionOrder) -> list[str]:
    reasons = []
    completed, quantity = order.quantity_completed, order.quantity
    if completed < quantity:
        reasons.append(
            f"completed quantity {show(completed)} is below the order quantity {show(quantity)}"
        )
    if completed > order.max_completed_quantity:
        reasons.append(
            f"completed quantity {show(completed)} is above the over-delivery tolerance "
            f"({show(order.max_completed_quantity)} at most)"
        )
    if order.quantity_in_progress > 0:
        reasons.append(f"{show(order.quantity_in_progress)} still in progress")
    return reasons


def transition_blockers(*, order: ProductionOrder, transition: str) -> list[str]:
    """Why a transition may not happen now; empty when it may."""
    method = getattr(order, transition, None)
    if method is None or transition not in Transition.values:
        return [f"unknown transition {transition!r}"]
    meta = method._django_fsm
    if not meta.has_transition(order.status):
        return [f"{Transition(transition).label} is not possible from {order.get_status_display()}"]
    reasons: list[str] = []
    if transition == Transition.RELEASE:
        reasons += find_release_master_data(order)[2]
    elif transition == Transition.UNRELEASE and order.has_activity():
        reasons.append("quantities have already been reported on the order")
    elif transition == Transition.CLOSE:
        reasons += _close_reasons(order)
    return reasons


def refuse_transition(order: ProductionOrder, transition: str, blockers: list[str]) -> None:
    """The refusal of a transition that has blockers (orders' own or a higher app's)."""
    if blockers:
        label = Transition(transition).label
        raise NotAllowed(
            f"{label} of order {order.number} refused: {'; '.join(blockers)}.",
            code=f"{transition}_refused",
            fields={"status": order.status, "reasons": blockers},
        )


def allowed_transitions(*, order: ProductionOrder) -> list[tuple[str, list[str]]]:
    """The manual transitions possible from the current status, each with its blockers."""
    result = []
    for name in MANUAL_TRANSITIONS:
        if getattr(order, name)._django_fsm.has_transition(order.status):
            result.append((name, transition_blockers(order=order, transition=name)))
    return result


# --- Transitions --------------------------------------------------------------------------


def _stamp(order: ProductionOrder, actor: Actor, reason: str) -> None:
    """Why (and, when a person asked, who) for the history record the next save writes."""
    order._change_reason = reason
    if actor.user is not None:
        order._history_user = actor.user


def _apply(order: ProductionOrder, transition: str, actor: Actor, reason: str = "") -> None:
    """Move the status (already checked), save, and write the transition log."""
    from_status = order.status
    getattr(order, transition)()
    _stamp(order, actor, reason or Transition(transition).label)
    order.save()
    OrderTransitionLog.objects.create(
        order=order,
        transition=transition,
        from_status=from_status,
        to_status=order.status,
        user=actor.user,
        actor=actor.label,
        reason=reason,
    )


@transaction.atomic
def production_order_transition(
    *, order: ProductionOrder, transition: str, actor: Actor = SYSTEM, reason: str = ""
) -> ProductionOrder:
    """The status move of a manual transition (release, unrelease, cancel, close, reopen,
    unterminate) with orders' own checks. What else a transition does is execution's use
    case (execution.services.order_lifecycle), which every caller goes through."""
    refuse_hub_owned("Production orders")
    if transition not in MANUAL_TRANSITIONS:
        raise ApplicationError(
            f"{transition!r} is not a transition that can be asked for.", code="invalid_transition"
        )
    order = lock_order(order.pk)
    refuse_transition(order, transition, transition_blockers(order=order, transition=transition))
    if transition == Transition.RELEASE:
        bom, route, _ = find_release_master_data(order)
        order.bom, order.route = bom, route
        # Once per order: a re-release after an unrelease keeps the lines it has.
        if not order.materials.filter(bom_line__isnull=False).exists():
            _explode_bom(order, bom)
    _apply(order, transition, actor, reason)
    return order


def _explode_bom(order: ProductionOrder, bom: Bom) -> None:
    """The BOM lines as order materials, next to any a planner added before the release."""
    lines = list(bom.lines.all())
    taken = set(order.materials.values_list("line_number", flat=True))
    last = max(taken | {line.line_number for line in lines}, default=0)
    numbers = []
    for line in lines:
        number = line.line_number
        if number in taken:
            last += 10
            number = last
        taken.add(number)
        numbers.append(number)
    bulk_create_with_history(
        [
            ProductionOrderMaterial(
                order=order,
                line_number=number,
                component_id=line.component_id,
                quantity_per=line.quantity_per,
                scrap_allowance_pct=line.scrap_allowance_pct,
                flushing_principle=line.flushing_principle,
                operation_number=line.operation_number,
                bom_line=line,
            )
            for line, number in zip(lines, numbers, strict=True)
        ],
        ProductionOrderMaterial,
    )


def _settle_running_status(order: ProductionOrder, actor: Actor, reason: str) -> None:
    """The automatic transitions: a running order's status follows its quantities."""
    if order.status == OrderStatus.RELEASED and order.has_activity():
        _apply(order, Transition.START, actor, reason)
    if order.status not in RUNNING:
        return
    implied = order.implied_running_status()
    if order.status == OrderStatus.IN_PROGRESS and implied == OrderStatus.COMPLETED:
        _apply(order, Transition.COMPLETE, actor, reason)
    elif order.status == OrderStatus.COMPLETED and implied == OrderStatus.IN_PROGRESS:
        _apply(order, Transition.RESUME, actor, reason)


@transaction.atomic
def production_order_record_quantities(
    *,
    order: ProductionOrder,
    in_progress: Decimal = ZERO,
    good: Decimal = ZERO,
    scrap: Decimal = ZERO,
    work_started: bool = False,
    actor: Actor = SYSTEM,
    reason: str = "",
) -> ProductionOrder:
    """Add reported quantities (negative = correction) and apply the automatic transitions.

    A start moves a Released order to In Progress even with no quantity.
    """
    order = lock_order(order.pk)
    if order.status not in (OrderStatus.RELEASED, *RUNNING):
        raise NotAllowed(
            f"Order {order.number} is {order.get_status_display()}: no quantity can be "
            "reported on it.",
            code="order_not_running",
            fields={"status": order.status},
        )
    changes = {
        "quantity_in_progress": in_progress,
        "quantity_completed": good,
        "quantity_scrapped": scrap,
    }
    for field, delta in changes.items():
        validate_quantity_for_unit(Decimal(delta), order.unit, field)
        new_value = getattr(order, field) + Decimal(delta)
        if new_value < 0:
            raise ApplicationError(
                f"{field.replace('_', ' ')} of order {order.number} would become negative "
                f"({show(new_value)}).",
                code="quantity_negative",
                fields={field: str(new_value)},
            )
        setattr(order, field, new_value)
    _stamp(order, actor, reason or "quantities reported")
    if order.status == OrderStatus.RELEASED and work_started:
        _apply(order, Transition.START, actor, reason or "work started")
    order.save()
    _settle_running_status(order, actor, reason)
    return order


# --- Creating and changing orders ---------------------------------------------------------


def _require_editable(order: ProductionOrder) -> None:
    if order.status == OrderStatus.CLOSED:
        raise NotAllowed(
            f"Order {order.number} is closed and frozen: reopen it before changing it.",
            code="order_frozen",
            fields={"status": order.status},
        )
    if order.status not in EDITABLE:
        raise NotAllowed(
            f"Order {order.number} is {order.get_status_display()}: it cannot be changed.",
            code="order_not_editable",
            fields={"status": order.status},
        )


def _validate_quantity(quantity: Decimal, unit: UnitOfMeasure) -> Decimal:
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ApplicationError(
            "The order quantity must be above zero.",
            code="quantity_not_positive",
            fields={"quantity": str(quantity)},
        )
    validate_quantity_for_unit(quantity, unit, "quantity")
    return quantity


# Fields a planner may change, and whether the order must still be Created for it.
_PLAN_FIELDS = {
    "scheduled_start": False,
    "priority": False,
    "over_delivery_tolerance_pct": False,
    "restricted": False,
    "item": True,
    "revision": True,
    "unit": True,
    "site": True,
}
# What changes only while the order is Created (the planner form and the admin show it so).
CREATED_ONLY_FIELDS = tuple(field for field, created in _PLAN_FIELDS.items() if created)


def _check_plan_values(priority: int, over_delivery_tolerance_pct: Decimal) -> None:
    if not 1 <= int(priority) <= 9:
        raise ApplicationError(
            "Priority goes from 1 (most urgent) to 9.",
            code="priority_range",
            fields={"priority": "1..9"},
        )
    if Decimal(over_delivery_tolerance_pct) < 0:
        raise ApplicationError(
            "The over-delivery tolerance cannot be negative.",
            code="tolerance_negative",
            fields={"over_delivery_tolerance_pct": str(over_delivery_tolerance_pct)},
        )


def production_order_check_new(
    *,
    number: str,
    item: Item,
    quantity: Decimal,
    unit: UnitOfMeasure,
    priority: int = 5,
    over_delivery_tolerance_pct: Decimal = ZERO,
) -> Decimal:
    """Refuse a new order that could not be created; returns the validated quantity."""
    if not number or not number.strip():
        raise ApplicationError(
            "An order needs a number.", code="number_missing", fields={"number": "required"}
        )
    if ProductionOrder.objects.filter(number=number.strip()).exists():
        raise NotAllowed(
            f"Order {number} already exists.", code="order_exists", fields={"number": number}
        )
    if not item.is_active:
        raise MissingMasterData(
            f"Item {item.part_number} is not active.", fields={"item": item.part_number}
        )
    _check_plan_values(priority, over_delivery_tolerance_pct)
    return _validate_quantity(quantity, unit)


def production_order_check_changes(*, order: ProductionOrder, changes: dict) -> None:
    """Refuse changes the order's status does not allow (frozen, not Created, below produced)."""
    _require_editable(order)
    for field, value in changes.items():
        if field == "quantity":
            quantity = _validate_quantity(value, changes.get("unit", order.unit))
            if quantity < order.quantity_completed:
                raise NotAllowed(
                    f"Quantity {show(quantity)} is below the "
                    f"{show(order.quantity_completed)} already produced on order "
                    f"{order.number}.",
                    code="qty_below_produced",
                    fields={"quantity_completed": str(order.quantity_completed)},
                )
            continue
        if field not in _PLAN_FIELDS:
            raise ApplicationError(
                f"{field} cannot be changed.",
                code="field_not_editable",
                fields={field: "read-only"},
            )
        changed = getattr(order, field) != value
        if _PLAN_FIELDS[field] and order.status != OrderStatus.CREATED and changed:
            raise NotAllowed(
                f"{field} can only change while the order is Created.",
                code="order_not_created",
                fields={field: order.get_status_display()},
            )
    _check_plan_values(
        changes.get("priority", order.priority),
        changes.get("over_delivery_tolerance_pct", order.over_delivery_tolerance_pct),
    )


@transaction.atomic
def production_order_create(
    *,
    number: str,
    item: Item,
    quantity: Decimal,
    site: Site,
    revision: str | None = None,
    unit: UnitOfMeasure | None = None,
    scheduled_start: datetime | None = None,
    priority: int = 5,
    over_delivery_tolerance_pct: Decimal = ZERO,
    restricted: bool = False,
    actor: Actor = SYSTEM,
) -> ProductionOrder:
    """A new order in Created; nothing is checked against BOM or route until release."""
    refuse_hub_owned("Production orders")
    unit = unit or item.unit
    quantity = production_order_check_new(
        number=number,
        item=item,
        quantity=quantity,
        unit=unit,
        priority=priority,
        over_delivery_tolerance_pct=over_delivery_tolerance_pct,
    )
    order = ProductionOrder(
        number=number.strip(),
        item=item,
        revision=revision or item.revision,
        quantity=quantity,
        unit=unit,
        site=site,
        scheduled_start=scheduled_start,
        priority=priority,
        over_delivery_tolerance_pct=over_delivery_tolerance_pct,
        restricted=restricted,
    )
    _stamp(order, actor, f"created by {actor.label}")
    order.save()
    return order


@transaction.atomic
def production_order_update(
    *, order: ProductionOrder, actor: Actor = SYSTEM, reason: str = "", **changes
) -> ProductionOrder:
    """Change planning fields; the quantity goes through production_order_change_quantity."""
    refuse_hub_owned("Production orders")
    order = lock_order(order.pk)
    production_order_check_changes(order=order, changes=changes)
    quantity = changes.pop("quantity", None)
    for field, value in changes.items():
        setattr(order, field, value)
    _stamp(order, actor, reason or f"changed by {actor.label}")
    order.save()
    if quantity is not None and Decimal(quantity) != order.quantity:
        return production_order_change_quantity(
            order=order, quantity=quantity, actor=actor, reason=reason
        )
    return order


@transaction.atomic
def production_order_change_quantity(
    *, order: ProductionOrder, quantity: Decimal, actor: Actor = SYSTEM, reason: str = ""
) -> ProductionOrder:
    """New order quantity; never below what is produced; a running order re-settles."""
    refuse_hub_owned("Production orders")
    order = lock_order(order.pk)
    production_order_check_changes(order=order, changes={"quantity": quantity})
    quantity = Decimal(quantity)
    order.quantity = quantity
    _stamp(order, actor, reason or f"quantity changed to {show(quantity)}")
    order.save()
    _settle_running_status(order, actor, reason or "quantity changed")
    return order


# --- Materials and steps ------------------------------------------------------------------


def _require_materials_changeable(order: ProductionOrder) -> None:
    _require_editable(order)
    if order.restricted:
        raise NotAllowed(
            f"Order {order.number} is restricted: no materials may be assigned or removed.",
            code="order_restricted",
        )


@transaction.atomic
def production_order_material_add(
    *,
    order: ProductionOrder,
    component: Item,
    quantity_per: Decimal,
    scrap_allowance_pct: Decimal = ZERO,
    flushing_principle: str = "none",
    operation_number: int | None = None,
) -> ProductionOrderMaterial:
    """Assign one more component to an order (refused on restricted or frozen orders)."""
    refuse_hub_owned("Production orders")
    order = lock_order(order.pk)
    _require_materials_changeable(order)
    if component.pk == order.item_id:
        raise ApplicationError("An order cannot consume its own item.", code="component_is_item")
    if Decimal(quantity_per) <= 0:
        raise ApplicationError("Quantity per must be above zero.", code="quantity_not_positive")
    last = order.materials.order_by("-line_number").values_list("line_number", flat=True).first()
    material = ProductionOrderMaterial.objects.create(
        order=order,
        line_number=(last or 0) + 10,
        component=component,
        quantity_per=quantity_per,
        scrap_allowance_pct=scrap_allowance_pct,
        flushing_principle=flushing_principle,
        operation_number=operation_number,
    )
    return material


@transaction.atomic
def production_order_material_remove(*, material: ProductionOrderMaterial) -> None:
    """Remove a component from an order (refused on restricted or frozen orders)."""
    refuse_hub_owned("Production orders")
    order = lock_order(material.order_id)
    _require_materials_changeable(order)
    material.delete()


@transaction.atomic
def production_order_split_into_steps(
    *, order: ProductionOrder, step_size: Decimal
) -> list[ProductionOrderStep]:
    """Divide the remaining quantity into steps of step_size (the last takes the rest)."""
    refuse_hub_owned("Production orders")
    order = lock_order(order.pk)
    _require_editable(order)
    step_size = Decimal(step_size)
    if step_size <= 0:
        raise ApplicationError("The step size must be above zero.", code="step_size_invalid")
    validate_quantity_for_unit(step_size, order.unit, "step_size")
    remaining = order.quantity - order.quantity_completed
    if remaining <= 0:
        raise NotAllowed("Nothing remains to be produced.", code="nothing_remaining")
    count = math.ceil(remaining / step_size)
    order.steps.all().delete()
    steps = [
        ProductionOrderStep(
            order=order, sequence=i + 1, quantity=min(step_size, remaining - i * step_size)
        )
        for i in range(count)
    ]
    for step in steps:
        step.save()
    return steps
