"""Lots (batches) and serial numbers of an item."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ..choices import Tracking
from .items import Item


class Lot(models.Model):
    """A lot (batch) or a serial number of one item; the item's tracking says which."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="lots")
    number = models.CharField(max_length=64)
    expiry_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "lot / serial number"
        ordering = ["item__part_number", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="lot_unique_per_item"),
            models.CheckConstraint(condition=~Q(number=""), name="lot_number_not_empty"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_serial(self) -> bool:
        return self.item.tracking == Tracking.SERIAL
