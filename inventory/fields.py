"""Quantity fields: Decimal everywhere, one precision for the whole product."""

from decimal import Decimal

from django.db import models

QUANTITY_DIGITS = 20
QUANTITY_PLACES = 6
ZERO = Decimal("0")


class QuantityField(models.DecimalField):
    """A material quantity: Decimal(20, 6), zero by default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", QUANTITY_DIGITS)
        kwargs.setdefault("decimal_places", QUANTITY_PLACES)
        kwargs.setdefault("default", ZERO)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "inventory.fields.QuantityField", args, kwargs


QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)


def exact(value) -> Decimal:
    """A database SUM as a quantity: None -> 0, rounded to the quantity's 6 places.

    PostgreSQL sums NUMERIC exactly (a no-op here); SQLite sums binary floats, whose error
    stays far below the sixth decimal for any real stock, so rounding restores the value.
    """
    if value is None:
        return ZERO
    return Decimal(value).quantize(QUANTUM)


def show(value: Decimal) -> str:
    """A quantity for people: no trailing zeros, never exponent notation (10, not 1E+1)."""
    return f"{Decimal(value).normalize():f}"
