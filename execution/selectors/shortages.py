"""The shortages of an order at release: what the planner page and the admin show and ask to
confirm before a release short of material (docs/pages.md)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from inventory import selectors as inventory_selectors
from inventory.choices import SourceType
from inventory.fields import ZERO, show
from inventory.models import Reservation
from mesproject.errors import ApplicationError
from orders.choices import OrderStatus, Transition
from orders.models import BomLine, ProductionOrder, ProductionOrderMaterial

from ..services import order_lifecycle
from ..services.materials import (
    RESERVING,
    material_requirement,
    order_parent_quantity,
    order_reference,
)


@dataclass(frozen=True)
class MaterialShortage:
    """A component the order needs more of than its site has for it.

    required: what the order's lines still need (requirement less what was consumed);
    available: the site's on-hand less what other orders' open reservations hold.
    """

    item_id: int
    part_number: str
    unit: str
    line_numbers: tuple[int, ...]
    required: Decimal
    available: Decimal

    @property
    def short(self) -> Decimal:
        return self.required - max(ZERO, self.available)

    def __str__(self) -> str:
        return (
            f"{self.part_number} short {show(self.short)} {self.unit} "
            f"(needs {show(self.required)}, "
            f"{show(max(ZERO, self.available))} available)"
        )

    def as_dict(self) -> dict:
        """For the API: quantities as strings, as everywhere in it."""
        return {
            "part_number": self.part_number,
            "unit": self.unit,
            "line_numbers": list(self.line_numbers),
            "required": str(self.required),
            "available": str(self.available),
            "short": str(self.short),
        }


def order_release_shortages(*, order: ProductionOrder) -> list[MaterialShortage]:
    """The components an order (about to be released, or released) is short of at its site.

    The lines are the order's materials plus, while the BOM is not exploded yet, the BOM
    lines the release will copy; each needs what execution.services.materials reserves
    (its requirement less what was consumed on it). The stock it may count on is
    inventory's available quantity at the site, its own reservations left out, the same
    figure the release's reservations record their shortage against. Lines of one component
    count together. A fixed number of queries, whatever the number of lines.
    """
    if order.status not in (OrderStatus.CREATED, *RESERVING):
        return []
    try:
        parent_quantity = order_parent_quantity(order)
    except ApplicationError:
        return []  # the release guard refuses the order with this reason
    materials = list(order.materials.select_related("component__unit"))
    lines = list(materials)
    if order.status == OrderStatus.CREATED and not any(m.bom_line_id for m in materials):
        # The release explodes the BOM (orders.services): its lines will be reserved too.
        lines += BomLine.objects.filter(
            bom__item_id=order.item_id, bom__revision=order.revision
        ).select_related("component__unit")
    if not lines:
        return []
    consumed = {
        source_id: quantity
        for source_id, quantity in Reservation.objects.filter(
            order_ref=order_reference(order), source_type=SourceType.ORDER_MATERIAL
        ).values_list("source_id", "quantity_consumed")
    }
    needs: dict[int, list] = defaultdict(lambda: [ZERO, []])
    components = {}
    for line in lines:
        # A BOM line's pk is no material's: only order materials have consumed anything.
        is_material = isinstance(line, ProductionOrderMaterial)
        used = consumed.get(str(line.pk), ZERO) if is_material else ZERO
        need = needs[line.component_id]
        need[0] += max(ZERO, material_requirement(line, parent_quantity) - used)
        need[1].append(line.line_number)
        components[line.component_id] = line.component
    available = inventory_selectors.available_quantities(
        items=needs, site=order.site, exclude_order_ref=order_reference(order)
    )
    shortages = []
    for item_id, (required, numbers) in needs.items():
        if required > max(ZERO, available[item_id]):
            component = components[item_id]
            shortages.append(
                MaterialShortage(
                    item_id=item_id,
                    part_number=component.part_number,
                    unit=component.unit.code,
                    line_numbers=tuple(sorted(numbers)),
                    required=required,
                    available=available[item_id],
                )
            )
    return sorted(shortages, key=lambda s: s.line_numbers)


def release_shortages_to_confirm(*, order: ProductionOrder) -> list[MaterialShortage]:
    """The shortages a person confirms before releasing the order (the planner page, the
    admin): none when the release would be refused anyway, so its own reasons are shown."""
    if order_lifecycle.transition_blockers(order=order, transition=Transition.RELEASE):
        return []
    return order_release_shortages(order=order)
