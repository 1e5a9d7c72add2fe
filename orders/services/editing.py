"""Creating a production order and changing its quantity and planning fields."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from inventory.fields import ZERO, show
from inventory.models import Item, Site, UnitOfMeasure, validate_quantity_for_unit
from mesproject.actors import SYSTEM, Actor
from mesproject.deployment import refuse_hub_owned
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed

from ..choices import OrderStatus
from ..models import ProductionOrder
from .lifecycle import RUNNING, _settle_running_status, _stamp, lock_order

EDITABLE = (OrderStatus.CREATED, OrderStatus.RELEASED, *RUNNING)


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
