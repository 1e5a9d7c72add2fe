"""Adjustment journals: stock corrections with a reason, posted into the ledger at once."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from ..choices import JournalStatus
from ..exceptions import JournalPosted
from ..fields import QuantityField
from .items import Item
from .ledger import InventoryTransaction
from .lots import Lot
from .places import Location


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
    # Not protected: save() itself refuses a posted status not set by post() (the model's
    # guard, which also covers bulk updates and a form that sets the field).
    status = FSMField(max_length=8, choices=JournalStatus.choices, default=JournalStatus.DRAFT)
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

    @transition(field=status, source=JournalStatus.DRAFT, target=JournalStatus.POSTED)
    def post(self, *, user, label: str, at, posting_id) -> None:
        """Into the ledger (inventory.services.adjustment_journal_post): final."""
        self.posted_by, self.posted_by_actor, self.posted_at = user, label, at
        self.posting_id = posting_id
        self._posting = True


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
