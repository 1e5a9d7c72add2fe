"""An order's material lines (added or removed by a planner) and its production steps."""

import math
from decimal import Decimal

from django.db import transaction

from inventory.fields import ZERO
from inventory.models import Item, validate_quantity_for_unit
from mesproject.deployment import refuse_hub_owned
from mesproject.errors import ApplicationError, NotAllowed

from ..models import ProductionOrder, ProductionOrderMaterial, ProductionOrderStep
from .editing import _require_editable
from .lifecycle import lock_order


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
