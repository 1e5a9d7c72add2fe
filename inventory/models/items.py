"""Items and the units they are counted in: units of measure, conversions, items."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ..choices import FlushingPrinciple, ItemType, Tracking
from ..fields import show


class UnitOfMeasure(models.Model):
    """A unit quantities are counted in (pcs, kg, m...)."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=64)
    decimal_places = models.PositiveSmallIntegerField(
        default=0, help_text="Decimals a quantity in this unit may carry (0 for pieces)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decimal_places__lte=6), name="uom_decimal_places_lte_6"
            )
        ]

    def __str__(self) -> str:
        return self.code


class UnitConversion(models.Model):
    """1 from_unit = factor x to_unit; item-specific when item is set (a box of this item)."""

    from_unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    factor = models.DecimalField(max_digits=20, decimal_places=10)
    item = models.ForeignKey(
        "Item", null=True, blank=True, on_delete=models.CASCADE, related_name="conversions"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(factor__gt=0), name="conversion_factor_positive"),
            models.CheckConstraint(
                condition=~Q(from_unit=models.F("to_unit")), name="conversion_units_differ"
            ),
            models.UniqueConstraint(
                fields=["from_unit", "to_unit", "item"], name="conversion_unique_per_item"
            ),
            models.UniqueConstraint(
                fields=["from_unit", "to_unit"],
                condition=Q(item__isnull=True),
                name="conversion_unique_generic",
            ),
        ]

    def __str__(self) -> str:
        scope = f" ({self.item})" if self.item_id else ""
        return f"1 {self.from_unit} = {show(self.factor)} {self.to_unit}{scope}"


class Item(models.Model):
    """A product or material, identified by its part number (revision = current revision)."""

    part_number = models.CharField(max_length=64, unique=True)
    revision = models.CharField(max_length=16, default="A")
    description = models.CharField(max_length=200, blank=True)
    item_type = models.CharField(max_length=16, choices=ItemType.choices, default=ItemType.RAW)
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="items")
    default_flushing_principle = models.CharField(
        max_length=24, choices=FlushingPrinciple.choices, default=FlushingPrinciple.MANUAL
    )
    tracking = models.CharField(max_length=8, choices=Tracking.choices, default=Tracking.NONE)
    allow_negative_stock = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["part_number"]

    def __str__(self) -> str:
        return f"{self.part_number} rev {self.revision}"


def validate_quantity_for_unit(quantity: Decimal, unit: UnitOfMeasure, field: str) -> None:
    """Refuse a quantity with more decimals than its unit allows (1.5 pieces)."""
    exponent = quantity.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > unit.decimal_places:
        message = f"{quantity} has more decimals than {unit.code} allows ({unit.decimal_places})."
        raise ValidationError({field: message})
