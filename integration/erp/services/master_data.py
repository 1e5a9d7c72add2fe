"""Master data upserts from the ERP: parts, BOMs and routings, so it can send what a work
order needs before the order itself."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.models import InventoryTransaction, Item, UnitOfMeasure
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed
from orders.models import Bom, BomLine, Resource, Route, RouteOperation


def _valid(instance, exclude=None) -> None:
    """Model validation as a 400 that names the fields."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        raise ApplicationError(
            "; ".join(exc.messages), code="invalid", fields=exc.message_dict
        ) from exc


@dataclass(frozen=True)
class PartInput:
    part_number: str
    uom: str
    revision: str = "A"
    description: str = ""
    item_type: str = "raw"
    tracking: str = "none"
    default_flushing_principle: str = "manual"
    is_active: bool = True


@transaction.atomic
def part_upsert(*, data: PartInput) -> tuple[Item, bool]:
    """Create or update an item by part number; (item, created)."""
    unit = UnitOfMeasure.objects.filter(code=data.uom).first()
    if unit is None:
        raise MissingMasterData(f"Unit of measure {data.uom} is unknown.", fields={"uom": data.uom})
    item = Item.objects.select_for_update().filter(part_number=data.part_number).first()
    created = item is None
    if created:
        item = Item(part_number=data.part_number)
    elif item.unit_id != unit.pk and InventoryTransaction.objects.filter(item=item).exists():
        raise NotAllowed(
            f"Part {item.part_number} has stock movements in {item.unit.code}: its unit cannot "
            "change.",
            code="unit_locked",
            fields={"uom": item.unit.code},
        )
    for name in ("revision", "description", "item_type", "tracking", "is_active"):
        setattr(item, name, getattr(data, name))
    item.default_flushing_principle = data.default_flushing_principle
    item.unit = unit
    _valid(item)
    item._change_reason = "upserted by the ERP"
    item.save()
    return item, created


def _item(part_number: str) -> Item:
    item = Item.objects.filter(part_number=part_number).first()
    if item is None:
        raise MissingMasterData(
            f"Part {part_number} is unknown: send it first (PUT /api/v1/parts/{part_number}/).",
            fields={"missing": [f"part {part_number}"]},
        )
    return item


def _missing(kind: str, names: set[str], known: set[str]) -> None:
    unknown = sorted(names - known)
    if unknown:
        raise MissingMasterData(
            f"Unknown {kind}: {', '.join(unknown)}.",
            fields={"missing": [f"{kind} {name}" for name in unknown]},
        )


def _duplicates(numbers: list[int], what: str) -> None:
    if len(numbers) != len(set(numbers)):
        raise ApplicationError(f"Each {what} may appear once.", code="duplicate_line")


@transaction.atomic
def bom_upsert(
    *, part_number: str, revision: str, lines: list[dict], approved: bool, description: str = ""
) -> tuple[Bom, bool]:
    """Create or replace a BOM revision with exactly the lines given; (bom, created)."""
    item = _item(part_number)
    _duplicates([line["line_number"] for line in lines], "line_number")
    components = {
        i.part_number: i
        for i in Item.objects.filter(part_number__in={line["component_part"] for line in lines})
    }
    _missing("part", {line["component_part"] for line in lines}, set(components))
    bom, created = Bom.objects.select_for_update().get_or_create(item=item, revision=revision)
    bom.approved, bom.description = approved, description
    bom._change_reason = "upserted by the ERP"
    bom.save()
    keep = []
    for data in lines:
        line = bom.lines.filter(line_number=data["line_number"]).first() or BomLine(
            bom=bom, line_number=data["line_number"]
        )
        line.component = components[data["component_part"]]
        line.quantity_per = Decimal(data["quantity_per"])
        line.scrap_allowance_pct = Decimal(data.get("scrap_allowance_pct") or 0)
        line.flushing_principle = data.get("flushing_principle") or "none"
        line.operation_number = data.get("operation_number")
        _valid(line, exclude=["bom"])
        line.save()
        keep.append(line.pk)
    bom.lines.exclude(pk__in=keep).delete()
    return bom, created


@transaction.atomic
def routing_upsert(
    *, part_number: str, revision: str, operations: list[dict], approved: bool, name: str = ""
) -> tuple[Route, bool]:
    """Create or replace a routing revision with exactly the operations given."""
    item = _item(part_number)
    _duplicates([op["operation_number"] for op in operations], "operation_number")
    resources = {
        r.code: r
        for r in Resource.objects.filter(code__in={op["resource_code"] for op in operations})
    }
    _missing("resource", {op["resource_code"] for op in operations}, set(resources))
    route, created = Route.objects.select_for_update().get_or_create(item=item, revision=revision)
    route.approved, route.name = approved, name
    route._change_reason = "upserted by the ERP"
    route.save()
    keep = []
    for data in operations:
        operation = route.operations.filter(
            operation_number=data["operation_number"]
        ).first() or RouteOperation(route=route, operation_number=data["operation_number"])
        operation.name = data["name"]
        operation.resource = resources[data["resource_code"]]
        operation.setup_time_minutes = Decimal(data.get("setup_time_minutes") or 0)
        operation.run_time_minutes_per_unit = Decimal(data.get("run_time_minutes_per_unit") or 0)
        _valid(operation, exclude=["route"])
        operation.save()
        keep.append(operation.pk)
    route.operations.exclude(pk__in=keep).delete()
    return route, created
