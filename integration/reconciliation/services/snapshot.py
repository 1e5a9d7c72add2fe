"""The ERP's WIP snapshot: validated, converted to the items' units and stored, for the
nightly reconciliation to compare against."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import islice

from django.db import transaction
from django.utils import timezone

from integration.models import (
    ErpWipLine,
    ErpWipSnapshot,
)
from integration.reconciliation.services.compare import BATCH_SIZE, Pair
from inventory.fields import QUANTITY_DIGITS, QUANTITY_PLACES, QUANTUM
from inventory.models import Item, UnitOfMeasure
from inventory.selectors import unit_conversion_factor
from mesproject.errors import ApplicationError, MissingMasterData

MAX_QUANTITY = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_PLACES)
MAX_REPORTED_ERRORS = 100


def _text(value, *, max_length: int, required: bool) -> tuple[str, str | None]:
    """The trimmed string and the reason it is refused (None when fine)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", "must be a string"
    value = value.strip()
    if required and not value:
        return value, "required"
    if len(value) > max_length:
        return value, f"at most {max_length} characters"
    return value, None


def _quantity(value) -> tuple[Decimal | None, str | None]:
    """A Decimal >= 0 within the quantity's precision (floats refused: they are not exact)."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        return None, "must be a decimal string"
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None, f"{value!r} is not a number"
    if not quantity.is_finite():
        return None, f"{value!r} is not a number"
    if quantity < 0:
        return None, "must not be negative"
    if quantity >= MAX_QUANTITY:
        return None, "is too large"
    if quantity != quantity.quantize(QUANTUM):
        return None, f"at most {QUANTITY_PLACES} decimals"
    return quantity, None


def _first(errors: dict[str, str]) -> dict[str, str]:
    # A snapshot of 100,000 bad lines must not answer with 100,000 errors.
    return dict(islice(errors.items(), MAX_REPORTED_ERRORS))


def _convert_to_item_units(rows: list[ErpWipLine]) -> None:
    """A line in another unit than its item's becomes the item's unit through the inventory's
    conversions, so the run compares like with like; a unit that does not exist
    (`unit_unknown`) or does not convert to the item's (`no_conversion`) refuses the snapshot
    naming the line. A part the MES does not know keeps what was sent: the run notes it."""
    named = [(index, row) for index, row in enumerate(rows) if row.uom]
    if not named:
        return
    units = {u.code: u for u in UnitOfMeasure.objects.filter(code__in={r.uom for _, r in named})}
    unknown = {
        f"lines[{index}].uom": f"unit {row.uom} is unknown"
        for index, row in named
        if row.uom not in units
    }
    if unknown:
        codes = ", ".join(sorted({row.uom for _, row in named} - set(units)))
        raise MissingMasterData(
            f"{len(unknown)} line(s) name a unit the MES does not know ({codes}); "
            "nothing was stored.",
            code="unit_unknown",
            fields=_first(unknown),
        )
    parts = sorted({row.component_part for _, row in named})
    items: dict[str, Item] = {}
    for start in range(0, len(parts), BATCH_SIZE):
        chunk = parts[start : start + BATCH_SIZE]
        items.update(
            (item.part_number, item)
            for item in Item.objects.select_related("unit").filter(part_number__in=chunk)
        )
    factors: dict[tuple[int, int], Decimal | None] = {}
    missing: dict[str, str] = {}
    unconvertible: set[str] = set()
    too_large: dict[str, str] = {}
    for index, row in named:
        item, unit = items.get(row.component_part), units[row.uom]
        if item is None or unit.pk == item.unit_id:
            continue
        key = (item.pk, unit.pk)
        if key not in factors:  # one look-up per item and unit, however many lines
            factors[key] = unit_conversion_factor(item=item, from_unit=unit, to_unit=item.unit)
        if factors[key] is None:
            missing[f"lines[{index}].uom"] = (
                f"no conversion from {unit.code} to {item.unit.code} (the unit of "
                f"{item.part_number})"
            )
            unconvertible.add(f"{unit.code} to {item.unit.code}")
            continue
        # Rounded to the stored precision: the comparison's thresholds are far coarser.
        converted = (row.quantity * factors[key]).quantize(QUANTUM)
        if converted >= MAX_QUANTITY:
            too_large[f"lines[{index}].quantity"] = f"is too large in {item.unit.code}"
            continue
        row.quantity, row.uom = converted, item.unit.code
    if missing:
        raise MissingMasterData(
            f"{len(missing)} line(s) are in a unit that does not convert to their item's "
            f"unit ({', '.join(sorted(unconvertible))}); nothing was stored.",
            code="no_conversion",
            fields=_first(missing),
        )
    if too_large:
        raise ApplicationError(
            f"{len(too_large)} value(s) of the snapshot are not valid; nothing was stored.",
            code="invalid_line",
            fields=_first(too_large),
        )


@transaction.atomic
def erp_wip_snapshot_receive(*, as_of: datetime, lines: list[dict], user) -> ErpWipSnapshot:
    """Store the ERP's WIP balances per work order and component, all lines or none."""
    if not isinstance(as_of, datetime) or timezone.is_naive(as_of):
        raise ApplicationError(
            "as_of must be a date and time with its time zone.",
            code="invalid_snapshot",
            fields={"as_of": "a date and time with its time zone"},
        )
    errors: dict[str, str] = {}
    rows: list[ErpWipLine] = []
    seen: dict[Pair, int] = {}
    duplicates: dict[str, str] = {}
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            errors[f"lines[{index}]"] = "must be an object"
            continue
        wo_id, wo_error = _text(line.get("wo_id"), max_length=64, required=True)
        part, part_error = _text(line.get("component_part"), max_length=64, required=True)
        uom, uom_error = _text(line.get("uom"), max_length=16, required=False)
        quantity, quantity_error = _quantity(line.get("quantity"))
        for name, error in (
            ("wo_id", wo_error),
            ("component_part", part_error),
            ("uom", uom_error),
            ("quantity", quantity_error),
        ):
            if error:
                errors[f"lines[{index}].{name}"] = error
        if wo_error or part_error or uom_error or quantity_error:
            continue
        first = seen.setdefault((wo_id, part), index)
        if first != index:
            duplicates[f"lines[{index}]"] = f"same wo_id and component_part as lines[{first}]"
        rows.append(ErpWipLine(wo_id=wo_id, component_part=part, quantity=quantity, uom=uom))
    if errors:
        raise ApplicationError(
            f"{len(errors)} value(s) of the snapshot are not valid; nothing was stored.",
            code="invalid_line",
            fields=_first(errors),
        )
    if duplicates:
        raise ApplicationError(
            f"{len(duplicates)} line(s) repeat a work order and component; nothing was stored.",
            code="duplicate_line",
            fields=_first(duplicates),
        )
    _convert_to_item_units(rows)
    snapshot = ErpWipSnapshot.objects.create(
        as_of=as_of,
        received_at=timezone.now(),
        received_by=user if getattr(user, "is_authenticated", False) else None,
        line_count=len(rows),
    )
    for row in rows:
        row.snapshot = snapshot
    ErpWipLine.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return snapshot


# --- The run ------------------------------------------------------------------------------
