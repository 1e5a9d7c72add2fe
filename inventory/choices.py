from django.db import models


class FlushingPrinciple(models.TextChoices):
    """When a component is consumed automatically (item default; a BOM line may say None)."""

    MANUAL = "manual", "Manual"
    START = "start", "Start"
    OPERATION_FINISH = "operation_finish", "Finish (operation)"
    PRODUCTION_FINISH = "production_finish", "Finish (production)"
    AVAILABLE_AT_LOCATION = "available_at_location", "Available at location"


class Tracking(models.TextChoices):
    NONE = "none", "Not tracked"
    LOT = "lot", "Lot"
    SERIAL = "serial", "Serial"


class ItemType(models.TextChoices):
    RAW = "raw", "Raw material"
    SEMI_FINISHED = "semi_finished", "Semi-finished"
    FINISHED = "finished", "Finished good"
    PACKAGING = "packaging", "Packaging"


class LocationKind(models.TextChoices):
    GENERAL = "general", "General inventory"
    PRODUCTION_INPUT = "production_input", "Production input"
    PRODUCTION_OUTPUT = "production_output", "Production output"


class TransactionKind(models.TextChoices):
    """What a ledger row records; the kind fixes the sign of its quantity."""

    RECEIPT = "receipt", "Receipt"
    ISSUE = "issue", "Issue / consumption"
    RETURN = "return", "Return from order"
    FINISHED_RECEIPT = "finished_receipt", "Finished-goods receipt"
    # A finished-goods receipt taken back (a corrected report as finished): the ledger is
    # append-only, so the mistake is reversed by a new row, never edited.
    FINISHED_REVERSAL = "finish_reversal", "Finished-goods receipt reversal"
    SCRAP = "scrap", "Scrap write-off"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    ADJUSTMENT = "adjustment", "Adjustment"
    RESERVE = "reserve", "Reservation"
    UNRESERVE = "unreserve", "Reservation released"


# Kinds that move the reserved balance of a reservation; all the others move on-hand.
RESERVATION_KINDS = (TransactionKind.RESERVE, TransactionKind.UNRESERVE)
STOCK_KINDS = tuple(k for k in TransactionKind if k not in RESERVATION_KINDS)
INCREASING_KINDS = (
    TransactionKind.RECEIPT,
    TransactionKind.RETURN,
    TransactionKind.FINISHED_RECEIPT,
    TransactionKind.TRANSFER_IN,
    TransactionKind.RESERVE,
)
DECREASING_KINDS = (
    TransactionKind.ISSUE,
    TransactionKind.FINISHED_REVERSAL,
    TransactionKind.SCRAP,
    TransactionKind.TRANSFER_OUT,
    TransactionKind.UNRESERVE,
)
# Kinds that must name the production order they belong to.
ORDER_KINDS = (
    TransactionKind.ISSUE,
    TransactionKind.RETURN,
    TransactionKind.FINISHED_RECEIPT,
    TransactionKind.FINISHED_REVERSAL,
)


class SourceType(models.TextChoices):
    """The document a ledger row came from (referenced generically: inventory imports no app)."""

    PRODUCTION_ORDER = "production_order", "Production order"
    ORDER_MATERIAL = "order_material", "Production order material line"
    JOURNAL_LINE = "journal_line", "Production journal line"
    REGISTRATION = "registration", "Shop-floor registration"
    ERP_MESSAGE = "erp_message", "ERP message"
    ADJUSTMENT_JOURNAL = "adjustment_journal", "Adjustment journal"
    MANUAL = "manual", "Manual entry"


class JournalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"
