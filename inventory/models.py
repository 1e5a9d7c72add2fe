"""Inventory: master data (units, items, sites, locations, lots) and the stock ledger.

The ledger (InventoryTransaction) is append-only; OnHand and Reservation are balances the
services keep in the same transaction as the ledger rows that explain them, so that
on-hand == sum(ledger) for every key, always (see docs/inventory.md).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .choices import (
    DECREASING_KINDS,
    INCREASING_KINDS,
    ORDER_KINDS,
    RESERVATION_KINDS,
    FlushingPrinciple,
    ItemType,
    JournalStatus,
    LocationKind,
    SourceType,
    Tracking,
    TransactionKind,
)
from .exceptions import JournalPosted, LedgerImmutable
from .fields import QuantityField, show


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


class Site(models.Model):
    """A plant."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Warehouse(models.Model):
    """A warehouse of a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="warehouses")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="warehouse_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.code}"


class Location(models.Model):
    """A place stock sits: general inventory, or a production input / output location."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(
        max_length=24, choices=LocationKind.choices, default=LocationKind.GENERAL
    )
    allow_negative_stock = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["warehouse__site__code", "warehouse__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "code"], name="location_code_unique_per_warehouse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.site.code}/{self.warehouse.code}/{self.code}"

    @property
    def site(self) -> Site:
        return self.warehouse.site


def validate_quantity_for_unit(quantity: Decimal, unit: UnitOfMeasure, field: str) -> None:
    """Refuse a quantity with more decimals than its unit allows (1.5 pieces)."""
    exponent = quantity.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > unit.decimal_places:
        message = f"{quantity} has more decimals than {unit.code} allows ({unit.decimal_places})."
        raise ValidationError({field: message})


# --- Lots and serials ---------------------------------------------------------------------


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


# --- The ledger ---------------------------------------------------------------------------


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


# --- Balances -----------------------------------------------------------------------------


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


# --- Adjustment journals ------------------------------------------------------------------


class AdjustmentJournalQuerySet(models.QuerySet):
    """Bulk update / delete may not touch posted journals."""

    def update(self, **kwargs):
        if self.filter(status=JournalStatus.POSTED).exists():
            raise JournalPosted("A posted adjustment journal cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status=JournalStatus.POSTED).exists():
            raise JournalPosted("A posted adjustment journal cannot be deleted.")
        return super().delete()


class AdjustmentJournal(models.Model):
    """A set of stock corrections with a reason, posted into the ledger all at once."""

    description = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=500)
    audit_flag = models.BooleanField(
        default=False, help_text="Flagged for audit (e.g. a reconciliation discrepancy)."
    )
    status = models.CharField(
        max_length=8, choices=JournalStatus.choices, default=JournalStatus.DRAFT
    )
    source_type = models.CharField(max_length=32, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_actor = models.CharField(max_length=64, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_by_actor = models.CharField(max_length=64, blank=True)
    posting_id = models.UUIDField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = AdjustmentJournalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="adjjournal_has_reason"),
            models.CheckConstraint(
                condition=(
                    Q(status=JournalStatus.DRAFT, posted_at__isnull=True)
                    | Q(status=JournalStatus.POSTED, posted_at__isnull=False)
                ),
                name="adjjournal_posted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"ADJ-{self.pk or 'new'}"

    def save(self, *args, **kwargs):
        # Only services.adjustment_journal_post may set the status to posted.
        posting = getattr(self, "_posting", False)
        if (self.status == JournalStatus.POSTED and not posting) or (
            not self._state.adding and self._stored_as_posted()
        ):
            raise JournalPosted(f"Adjustment journal {self} is posted and cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_as_posted():
            raise JournalPosted(f"Adjustment journal {self} is posted and cannot be deleted.")
        return super().delete(*args, **kwargs)

    def _stored_as_posted(self) -> bool:
        return (
            self.pk is not None
            and AdjustmentJournal.objects.filter(pk=self.pk, status=JournalStatus.POSTED).exists()
        )


class AdjustmentJournalLineQuerySet(models.QuerySet):
    """Bulk update / delete may not touch lines of posted journals."""

    def _touches_posted(self) -> bool:
        return self.filter(journal__status=JournalStatus.POSTED).exists()

    def update(self, **kwargs):
        if self._touches_posted():
            raise JournalPosted("Lines of a posted adjustment journal cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        if self._touches_posted():
            raise JournalPosted("Lines of a posted adjustment journal cannot be deleted.")
        return super().delete()


class AdjustmentJournalLine(models.Model):
    """One correction: a signed quantity of an item / lot at a location."""

    journal = models.ForeignKey(AdjustmentJournal, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(help_text="Signed: + found, - missing.")
    order_ref = models.CharField(
        max_length=64, blank=True, help_text="Set when the difference belongs to an order's WIP."
    )
    note = models.CharField(max_length=200, blank=True)
    ledger_entry = models.OneToOneField(
        InventoryTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_line",
        editable=False,
    )
    history = HistoricalRecords()

    objects = AdjustmentJournalLineQuerySet.as_manager()

    class Meta:
        ordering = ["journal", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["journal", "line_number"], name="adjline_unique_number"
            ),
            models.CheckConstraint(condition=~Q(quantity=0), name="adjline_qty_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.journal}/{self.line_number}"

    def save(self, *args, **kwargs):
        if self.journal_id and self._journal_posted():
            raise JournalPosted(f"Adjustment journal {self.journal_id} is posted.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._journal_posted():
            raise JournalPosted(f"Adjustment journal {self.journal_id} is posted.")
        return super().delete(*args, **kwargs)

    def _journal_posted(self) -> bool:
        return AdjustmentJournal.objects.filter(
            pk=self.journal_id, status=JournalStatus.POSTED
        ).exists()
