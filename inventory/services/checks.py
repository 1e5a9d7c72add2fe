"""Input checks of inventory's services: quantities, items, locations, lots, order references.

They refuse bad input with InvalidMovement or MissingMasterData before anything is posted.
The only write here: resolve_lot(create=True) creates a lot number seen for the first time.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from ..choices import Tracking
from ..exceptions import InvalidMovement, MissingMasterData
from ..fields import QUANTITY_DIGITS, QUANTITY_PLACES
from ..models import Item, Location, Lot, UnitOfMeasure, validate_quantity_for_unit

MAX_QUANTITY = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_PLACES)


def clean_quantity(
    value, *, unit: UnitOfMeasure, field_name: str = "quantity", signed: bool = False
) -> Decimal:
    """A non-zero Decimal within the unit's decimals; positive unless signed. Floats refused."""
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidMovement(
            f"{field_name} must be a Decimal, not {type(value).__name__}.",
            code="quantity_not_decimal",
            fields={field_name: repr(value)},
        )
    try:
        quantity = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidMovement(
            f"{value!r} is not a quantity.", code="quantity_invalid", fields={field_name: value}
        ) from None
    if not quantity.is_finite():
        raise InvalidMovement(
            f"{value!r} is not a quantity.",
            code="quantity_invalid",
            fields={field_name: str(value)},
        )
    if quantity == 0:
        raise InvalidMovement(
            f"{field_name} must not be zero.", code="quantity_zero", fields={field_name: "0"}
        )
    if quantity < 0 and not signed:
        raise InvalidMovement(
            f"{field_name} must be above zero (the movement's kind gives its direction).",
            code="quantity_not_positive",
            fields={field_name: str(quantity)},
        )
    if abs(quantity) >= MAX_QUANTITY:
        raise InvalidMovement(
            f"{quantity} is too large.", code="quantity_too_large", fields={field_name: str(value)}
        )
    try:
        validate_quantity_for_unit(quantity, unit, field_name)
    except ValidationError:
        raise InvalidMovement(
            f"{quantity} has more decimals than {unit.code} allows ({unit.decimal_places}).",
            code="quantity_precision",
            fields={field_name: str(quantity)},
        ) from None
    return quantity


def resolve_item(item: Item | str) -> Item:
    """The item itself, or the one with that part number; unknown -> MissingMasterData."""
    if isinstance(item, Item):
        if item.pk is None:
            raise MissingMasterData("The item is not saved.", code="item_unknown")
        return item
    if isinstance(item, str) and item.strip():
        found = Item.objects.select_related("unit").filter(part_number=item.strip()).first()
        if found is not None:
            return found
    raise MissingMasterData(
        f"Item {item!r} does not exist.", code="item_unknown", fields={"item": str(item)}
    )


def _check_location(location: Location | None, name: str = "location") -> Location:
    if not isinstance(location, Location) or location.pk is None:
        raise MissingMasterData(
            f"The {name.replace('_', ' ')} does not exist.",
            code="location_unknown",
            fields={name: getattr(location, "code", None) or "unknown"},
        )
    return location


def resolve_lot(
    item: Item,
    lot: Lot | str | None,
    *,
    create: bool = False,
    expiry_date: date | None = None,
    field_name: str = "lot",
) -> Lot | None:
    """The lot / serial a movement of item needs: required iff the item is tracked."""
    if item.tracking == Tracking.NONE:
        if lot not in (None, ""):
            raise InvalidMovement(
                f"Item {item.part_number} is not lot or serial tracked: no lot may be given.",
                code="lot_not_allowed",
                fields={field_name: str(lot)},
            )
        return None
    what = "serial number" if item.tracking == Tracking.SERIAL else "lot"
    if lot is None or (isinstance(lot, str) and not lot.strip()):
        raise InvalidMovement(
            f"Item {item.part_number} is {item.get_tracking_display().lower()}-tracked: "
            f"every movement needs a {what}.",
            code="lot_required",
            fields={field_name: "required"},
        )
    if isinstance(lot, Lot):
        if lot.pk is None:
            raise InvalidMovement("The lot is not saved.", code="lot_unknown")
        if lot.item_id != item.pk:
            raise InvalidMovement(
                f"{what.capitalize()} {lot.number} belongs to another item.",
                code="lot_item_mismatch",
                fields={field_name: lot.number},
            )
        return lot
    number = str(lot).strip()
    if create:
        found, _ = Lot.objects.get_or_create(
            item=item, number=number, defaults={"expiry_date": expiry_date}
        )
        return found
    found = Lot.objects.filter(item=item, number=number).first()
    if found is None:
        raise InvalidMovement(
            f"{what.capitalize()} {number} of item {item.part_number} does not exist.",
            code="lot_unknown",
            fields={field_name: number},
        )
    return found


def _check_serial_quantity(item: Item, quantity: Decimal) -> None:
    if item.tracking == Tracking.SERIAL and abs(quantity) != 1:
        raise InvalidMovement(
            f"Item {item.part_number} is serial-tracked: it moves one unit per serial number.",
            code="serial_quantity",
            fields={"quantity": str(quantity)},
        )


def _check_order_ref(order_ref: str, *, required: bool) -> str:
    order_ref = (order_ref or "").strip()
    if required and not order_ref:
        raise InvalidMovement(
            "The movement must name its production order.",
            code="order_ref_required",
            fields={"order_ref": "required"},
        )
    if len(order_ref) > 64:
        raise InvalidMovement("The order reference is too long.", code="order_ref_invalid")
    return order_ref


def negative_stock_allowed(item: Item, location: Location) -> bool:
    """Whether stock of the item may go below zero at the location (never for serials)."""
    if item.tracking == Tracking.SERIAL:
        return False
    return item.allow_negative_stock or location.allow_negative_stock
