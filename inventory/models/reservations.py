"""Reservations: material set aside at a site for one source line."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..choices import SourceType
from ..fields import QuantityField, show
from .items import Item
from .places import Site


class Reservation(models.Model):
    """Material set aside at a site for one source line (a production order material).

    quantity_open is what is still reserved; it equals the sum of the reservation's ledger
    rows. Reserving more than is available is allowed: the part not covered by stock is a
    shortage (quantity_short when last reserved; selectors.material_shortages live).
    """

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="reservations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="reservations")
    order_ref = models.CharField(max_length=64)
    source_type = models.CharField(max_length=32, choices=SourceType.choices)
    source_id = models.CharField(max_length=64)
    quantity_reserved = QuantityField(help_text="Everything ever reserved.")
    quantity_consumed = QuantityField(help_text="Relieved by issues to the order.")
    quantity_freed = QuantityField(help_text="Given back to general inventory.")
    quantity_open = QuantityField(help_text="Still reserved.")
    quantity_short = QuantityField(
        help_text="Part of the open quantity not covered by available stock when last reserved."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order_ref", "id"]
        indexes = [
            models.Index(
                fields=["item", "site"],
                condition=Q(quantity_open__gt=0),
                name="reservation_open_item_site",
            ),
            models.Index(fields=["order_ref", "item"], name="reservation_order_item"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id"], name="reservation_unique_source"
            ),
            models.CheckConstraint(
                condition=Q(
                    quantity_reserved__gte=0,
                    quantity_consumed__gte=0,
                    quantity_freed__gte=0,
                    quantity_open__gte=0,
                    quantity_short__gte=0,
                ),
                name="reservation_quantities_not_negative",
            ),
            models.CheckConstraint(condition=~Q(order_ref=""), name="reservation_has_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} {self.item}: {show(self.quantity_open)} open"
