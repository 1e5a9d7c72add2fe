"""The stock ledger (append-only) and the on-hand balances it explains.

OnHand is kept in the same transaction as the ledger rows that explain it, so that
on-hand == sum(ledger) for every key, always (see docs/inventory.md).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..choices import (
    DECREASING_KINDS,
    INCREASING_KINDS,
    ORDER_KINDS,
    RESERVATION_KINDS,
    SourceType,
    TransactionKind,
)
from ..exceptions import LedgerImmutable
from ..fields import QuantityField, show
from .items import Item, UnitOfMeasure
from .lots import Lot
from .places import Location


class InventoryTransactionQuerySet(models.QuerySet):
    """Refuses update() and delete(): the ledger is append-only."""

    def update(self, **kwargs):
        raise LedgerImmutable("Inventory ledger rows cannot be changed; post a new movement.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerImmutable("Inventory ledger rows cannot be changed; post a new movement.")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise LedgerImmutable("Inventory ledger rows cannot be changed; post a new movement.")

    def delete(self):
        raise LedgerImmutable("Inventory ledger rows cannot be deleted; post a new movement.")


def _kinds(kinds) -> list[str]:
    return [str(k) for k in kinds]


class InventoryTransaction(models.Model):
    """One immutable ledger row: a movement of stock, or of a reservation.

    quantity is signed, in the item's unit: + adds to the balance the kind moves (on-hand at
    location, or the reservation), - takes from it. Stock rows carry a location; reservation
    rows carry the reservation instead.
    """

    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", db_index=False)
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reservation = models.ForeignKey(
        "Reservation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger",
        db_index=False,
    )
    quantity = QuantityField(default=None)
    unit = models.ForeignKey(
        UnitOfMeasure, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    order_ref = models.CharField(
        max_length=64, blank=True, help_text="The production order (its number) it belongs to."
    )
    parent_lot = models.ForeignKey(
        Lot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="Genealogy: the finished lot or serial this consumption went into.",
    )
    source_type = models.CharField(max_length=32, choices=SourceType.choices)
    source_id = models.CharField(max_length=64)
    posting_id = models.UUIDField(
        default=uuid.uuid4, help_text="Rows written by one service call share it."
    )
    reason = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor = models.CharField(max_length=64, help_text="The user or the process that caused it.")
    occurred_at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = InventoryTransactionQuerySet.as_manager()

    class Meta:
        verbose_name = "inventory transaction"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["item", "recorded_at"], name="invtx_item_time"),
            models.Index(fields=["lot"], condition=Q(lot__isnull=False), name="invtx_lot"),
            models.Index(
                fields=["parent_lot"],
                condition=Q(parent_lot__isnull=False),
                name="invtx_parent_lot",
            ),
            models.Index(
                fields=["reservation"],
                condition=Q(reservation__isnull=False),
                name="invtx_reservation",
            ),
            models.Index(
                fields=["order_ref", "item"], condition=~Q(order_ref=""), name="invtx_order"
            ),
            models.Index(fields=["source_type", "source_id"], name="invtx_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=_kinds(INCREASING_KINDS), quantity__gt=0)
                    | Q(kind__in=_kinds(DECREASING_KINDS), quantity__lt=0)
                    | (Q(kind=TransactionKind.ADJUSTMENT) & ~Q(quantity=0))
                ),
                name="invtx_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=_kinds(RESERVATION_KINDS),
                        reservation__isnull=False,
                        location__isnull=True,
                        lot__isnull=True,
                    )
                    | (
                        ~Q(kind__in=_kinds(RESERVATION_KINDS))
                        & Q(reservation__isnull=True, location__isnull=False)
                    )
                ),
                name="invtx_stock_or_reservation",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=_kinds(ORDER_KINDS)) | ~Q(order_ref=""),
                name="invtx_order_kinds_have_order",
            ),
            models.CheckConstraint(
                condition=~Q(source_type="") & ~Q(source_id=""), name="invtx_has_source"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {show(self.quantity)} {self.item_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerImmutable("Inventory ledger rows cannot be changed; post a new movement.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("Inventory ledger rows cannot be deleted; post a new movement.")

    @property
    def direction(self) -> int:
        return 1 if self.quantity > 0 else -1


class OnHand(models.Model):
    """Stock of one item / lot / location: always the sum of its ledger rows."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="on_hand")
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="on_hand"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="on_hand")
    quantity = QuantityField()
    allow_negative = models.BooleanField(
        default=False,
        help_text="Copied from the item or the location: only then may quantity drop below 0.",
    )
    is_serial = models.BooleanField(default=False, help_text="A serial: 0 or 1, never more.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "on-hand balance"
        ordering = ["item__part_number", "location_id", "lot_id"]
        indexes = [models.Index(fields=["location", "item"], name="onhand_location_item")]
        constraints = [
            # Two partial unique indexes instead of nulls_distinct=False: correct on SQLite
            # and on every PostgreSQL version, with or without a lot.
            models.UniqueConstraint(
                fields=["item", "lot", "location"],
                condition=Q(lot__isnull=False),
                name="onhand_unique_item_lot_location",
            ),
            models.UniqueConstraint(
                fields=["item", "location"],
                condition=Q(lot__isnull=True),
                name="onhand_unique_item_location_nolot",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0) | Q(allow_negative=True),
                name="onhand_not_negative_unless_allowed",
            ),
            models.CheckConstraint(
                condition=Q(is_serial=False) | Q(quantity__gte=0, quantity__lte=1),
                name="onhand_serial_zero_or_one",
            ),
        ]

    def __str__(self) -> str:
        lot = f" lot {self.lot}" if self.lot_id else ""
        return f"{self.item} @ {self.location}{lot}: {show(self.quantity)}"
