"""An order's as-built record: which component lots went into each finished lot (the ERP
API's genealogy)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from inventory.fields import exact
from orders.models import ProductionOrder

from ..models import GenealogyLink


@dataclass(frozen=True)
class GenealogyRow:
    """A component lot that went into a finished lot, and how much (the as-built record)."""

    finished_lot: str
    component_part: str
    component_lot: str
    quantity: Decimal


def order_genealogy(*, order: ProductionOrder) -> list[GenealogyRow]:
    """Per finished lot of the order (in the order they were reported), the component lots
    linked to it, reversed links netted out (one query)."""
    rows = (
        GenealogyLink.objects.filter(order=order)
        .values_list(
            "finished_lot_id",
            "finished_lot__number",
            "component_lot__item__part_number",
            "component_lot__number",
        )
        .annotate(total=Sum("quantity"))
        .order_by("finished_lot_id", "component_lot__item__part_number", "component_lot__number")
    )
    return [
        GenealogyRow(finished, part, lot, exact(total))
        for _id, finished, part, lot, total in rows
        if exact(total)
    ]
