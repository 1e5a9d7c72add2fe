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
        name, path, args, kwargs = super().deconstruct()
        return name, "inventory.fields.QuantityField", args, kwargs
