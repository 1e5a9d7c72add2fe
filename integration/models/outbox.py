"""Messages to the ERP, written with the change they report and delivered in order."""

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.fields import QuantityField
from inventory.models import Item, UnitOfMeasure
from mesproject.actors import Actor, label_field, user_field
from orders.models import ProductionOrder

from ..choices import OPEN_MESSAGE_STATUSES, MessageKind, MessageStatus


class OutboxStream(models.Model):
    """One ordered stream of messages: a work order (its wo_id) or payroll.

    Its row is locked to number a new message, so sequences have no gaps or doubles.
    """

    key = models.CharField(max_length=80, unique=True)
    last_sequence = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return self.key


class OutboxMessage(FSMModelMixin, models.Model):
    """One upstream message; only the oldest unfinished message of a stream may be sent."""

    stream = models.CharField(max_length=80, help_text="The work order (wo_id), or payroll.")
    sequence = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=24, choices=MessageKind.choices)
    transaction_uuid = models.UUIDField(unique=True)
    order = models.ForeignKey(
        ProductionOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payload = models.JSONField(help_text="The body sent, without transaction_uuid.")
    registration_uuid = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The shop-floor registration it reports: a correction's reversal names "
        "the message it reverses by it.",
    )
    status = FSMField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING, protected=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: waits for IT (retries used up)."
    )
    last_error = models.TextField(blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_lettered_at = models.DateTimeField(null=True, blank=True)
    canceled_by = user_field()
    canceled_by_actor = label_field()

    class Meta:
        ordering = ["stream", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "sequence"], name="outbox_unique_stream_sequence"
            ),
            models.CheckConstraint(
                condition=Q(attempts__gte=0), name="outbox_attempts_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["stream", "status", "sequence"]),
        ]

    def __str__(self) -> str:
        return f"{self.stream}#{self.sequence} {self.get_kind_display()}"

    # The lane queue's transitions (mesproject.lanes: a stream is a lane); when to retry and
    # when a message is a dead letter is the relay's.

    @transition(field=status, source=OPEN_MESSAGE_STATUSES, target=MessageStatus.DELIVERED)
    def delivered(self, at, status_code: int) -> None:
        self.delivered_at, self.next_attempt_at = at, None
        self.last_status_code, self.last_error = status_code, ""

    @transition(field=status, source=OPEN_MESSAGE_STATUSES, target=MessageStatus.DEAD_LETTER)
    def fail(self, error: str, *, now, status_code, retry_at) -> None:
        """Into the dead-letter queue (retried on the backoff schedule): holds its stream."""
        self.last_error, self.last_status_code = error, status_code
        self.dead_lettered_at = self.dead_lettered_at or now
        self.next_attempt_at = retry_at

    @transition(field=status, source=MessageStatus.DEAD_LETTER, target=MessageStatus.PENDING)
    def process_again(self, at) -> None:
        """Sent again now."""
        self.next_attempt_at = at

    @transition(field=status, source=MessageStatus.DEAD_LETTER, target=MessageStatus.CANCELED)
    def cancel(self, actor: Actor) -> None:
        """Given up (kept); the later messages of its stream go on."""
        self.next_attempt_at = None
        actor.stamp(self, "canceled_by")


class OutboxFix(models.Model):
    """IT corrected a dead letter's body before it was sent again: what it was, what it
    became, who and when. The message holds only its body as sent next; these rows keep
    what the MES first wrote, so a fix never rewrites history unseen."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.PROTECT, related_name="fixes")
    fixed_at = models.DateTimeField(auto_now_add=True)
    fixed_by = user_field()
    fixed_by_actor = label_field()
    payload_before = models.JSONField()
    payload_after = models.JSONField()

    class Meta:
        ordering = ["message", "fixed_at", "id"]

    def __str__(self) -> str:
        return f"Fix of {self.message} by {self.fixed_by_actor}"


class MaterialIssueBatch(models.Model):
    """Consumption waiting to be reported: one open row per order, component and lot.

    Flushed into one material-issue message at 50 units or after 15 minutes (configurable),
    and always before the order's completion and close messages.
    """

    order = models.ForeignKey(ProductionOrder, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    lot_number = models.CharField(max_length=64, blank=True)
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(help_text="Net: issues minus returns.")
    postings = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "item", "lot_number"], name="issuebatch_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.item_id}/{self.lot_number or '-'}"
