"""The BOM and route an order is released with, and the BOM lines it turns into order
materials."""

from simple_history.utils import bulk_create_with_history

from ..models import Bom, ProductionOrder, ProductionOrderMaterial, Route


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
