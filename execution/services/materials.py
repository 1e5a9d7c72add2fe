"""Use cases that span orders and inventory; execution is the highest app they touch.

Releasing an order reserves its materials, cancel / close / unrelease free them: the orders
transition runs these as effects (registered in apps.py), inside its own transaction, after
the status changed. Short-close (integration, the ERP close call) calls
order_free_reservations directly.
"""

from decimal import Decimal

from django.db import transaction

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.choices import SourceType
from inventory.fields import ZERO
from inventory.models import InventoryTransaction, Item, Location, Lot, Reservation
from inventory.services import Source
from mesproject.actors import SYSTEM, Actor
from mesproject.errors import MissingMasterData
from orders.choices import OrderStatus
from orders.models import ProductionOrder, ProductionOrderMaterial, Resource

from .jobs import lock_orders_waiting_at

# Statuses in which an order's materials stay reserved.
RESERVING = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)


def order_reference(order: ProductionOrder) -> str:
    """How inventory refers to an order (ledger order_ref): its number, the ERP's WO_ID."""
    return order.number


def material_source(material: ProductionOrderMaterial) -> Source:
    return Source(SourceType.ORDER_MATERIAL, str(material.pk))


def order_parent_quantity(order: ProductionOrder) -> Decimal:
    """The order quantity in the product's own unit (the unit BOM ratios are per)."""
    item = order.item
    if order.unit_id == item.unit_id:
        return order.quantity
    factor = inventory_selectors.unit_conversion_factor(
        item=item, from_unit=order.unit, to_unit=item.unit
    )
    if factor is None:
        raise MissingMasterData(
            f"No unit conversion from {order.unit.code} to {item.unit.code} for item "
            f"{item.part_number}.",
            code="unit_conversion_missing",
            fields={"unit": order.unit.code, "item": item.part_number},
        )
    return order.quantity * factor


def material_requirement(material: ProductionOrderMaterial, parent_quantity: Decimal) -> Decimal:
    """Component quantity an order needs: parent qty x quantity per x (1 + scrap allowance),
    in the component's unit, rounded up to the decimals that unit allows."""
    component = material.component
    raw = parent_quantity * material.quantity_per * (1 + material.scrap_allowance_pct / 100)
    return inventory_selectors.quantity_to_item_unit(
        item=component, quantity=raw, unit=component.unit, round_up=True
    )


def order_release_blockers(*, order: ProductionOrder) -> list[str]:
    """Release guard: the order quantity must convert to the product's unit."""
    try:
        order_parent_quantity(order)
    except MissingMasterData as exc:
        return [exc.message.rstrip(".")]
    return []


@transaction.atomic
def order_reserve_materials(
    *, order: ProductionOrder, actor: Actor = SYSTEM, **_
) -> list[Reservation]:
    """Reserve what each material line still needs at the order's site (idempotent).

    Each line's open reservation becomes its requirement minus what has already been
    consumed against it; lines that are gone are freed. More than is available is reserved
    anyway and shows as a shortage.
    """
    if order.status not in RESERVING:
        return []
    order_ref = order_reference(order)
    parent_quantity = order_parent_quantity(order)
    # Reservations are locked by (item, id) everywhere: walk the lines in that order.
    materials = list(
        order.materials.select_related("component__unit").order_by("component_id", "pk")
    )
    existing = {
        r.source_id: r
        for r in Reservation.objects.filter(
            order_ref=order_ref, source_type=SourceType.ORDER_MATERIAL
        ).select_related("item", "site")
    }
    result = []
    for material in materials:
        existing.pop(str(material.pk), None)
        result.append(
            inventory_services.reservation_set(
                item=material.component,
                site=order.site,
                quantity=material_requirement(material, parent_quantity),
                less_consumed=True,
                order_ref=order_ref,
                source=material_source(material),
                actor=actor,
                reason=f"order {order_ref} {order.get_status_display().lower()}",
            )
        )
    for gone in existing.values():
        if gone.quantity_open > 0:
            inventory_services.reservation_set(
                item=gone.item,
                site=gone.site,
                quantity=ZERO,
                order_ref=order_ref,
                source=Source(gone.source_type, gone.source_id),
                actor=actor,
                reason="material line removed",
            )
    return result


@transaction.atomic
def order_free_reservations(
    *, order: ProductionOrder, actor: Actor = SYSTEM, reason: str = "", **_
) -> Decimal:
    """Give what is still reserved for the order back to general inventory (seed 001, Work
    Order Close): on cancel, close, short-close and unrelease."""
    order_ref = order_reference(order)
    return inventory_services.reservation_free_for_order(
        order_ref=order_ref,
        actor=actor,
        reason=reason or f"order {order_ref} {order.get_status_display().lower()}",
        source=Source(SourceType.PRODUCTION_ORDER, order_ref),
    )


@transaction.atomic
def resource_put_material(
    *,
    resource: Resource,
    item: Item | str,
    quantity: Decimal,
    from_location: Location,
    source: Source,
    actor: Actor = SYSTEM,
    lot: Lot | str | None = None,
) -> tuple[InventoryTransaction, InventoryTransaction]:
    """Put material at a resource's input location: the event the Available at location
    flushing principle consumes on (through inventory.signals.stock_posted)."""
    if resource.input_location_id is None:
        raise MissingMasterData(
            f"Resource {resource.code} has no input location.",
            code="input_location_missing",
            fields={"resource": resource.code},
        )
    item = inventory_services.resolve_item(item)
    lock_orders_waiting_at(location_id=resource.input_location_id, item_id=item.pk)
    return inventory_services.inventory_transfer(
        item=item,
        quantity=quantity,
        from_location=from_location,
        to_location=resource.input_location,
        lot=lot,
        source=source,
        actor=actor,
        reason=f"to resource {resource.code}",
    )
