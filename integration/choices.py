from django.db import models


class KeyState(models.TextChoices):
    IN_FLIGHT = "in_flight", "In flight"
    COMPLETED = "completed", "Completed"


class MessageKind(models.TextChoices):
    MATERIAL_ISSUE = "material_issue", "Material issue"
    PRODUCTION_COMPLETION = "production_completion", "Production completion"
    SCRAP = "scrap", "Non-conformance and scrap"
    GENEALOGY = "genealogy", "Genealogy link"
    PAY_BASIS = "pay_basis", "Time and attendance pay basis"
    # A supervisor's correction reverses what was reported (docs/integration.md).
    COMPLETION_REVERSAL = "completion_reversal", "Production completion reversal"
    SCRAP_REVERSAL = "scrap_reversal", "Scrap reversal"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD_LETTER = "dead_letter", "Dead letter"
    CANCELED = "canceled", "Canceled"


# A message in one of these states holds every later message of its stream.
OPEN_MESSAGE_STATUSES = (MessageStatus.PENDING, MessageStatus.DEAD_LETTER)


class ChangeRequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


class NotificationKind(models.TextChoices):
    DEAD_LETTER = "dead_letter", "Message in the dead-letter queue"
    RECONCILIATION = "reconciliation", "WIP variance flagged for audit"
    CHANGE_REQUEST = "change_request", "Change request from the ERP"
    FORCE_CLOSE = "force_close", "Force close from the ERP"


class CloseMode(models.TextChoices):
    SHORT_CLOSE = "short_close", "Short close"
    CANCEL = "cancel", "Cancel"
    FORCE = "force", "Force close"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PackageKind(models.TextChoices):
    """What a hub -> scale unit package carries."""

    REFERENCE = "reference", "Reference data"
    ORDER = "order", "Production order"


class PackageStatus(models.TextChoices):
    """A package on the scale unit (the manufacturing jobs processing history)."""

    NEW = "new", "New"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class ForwardStatus(models.TextChoices):
    """A registration on its way from the scale unit to the hub."""

    PENDING = "pending", "Waiting for the hub"
    SENT = "sent", "Accepted by the hub"
    REJECTED = "rejected", "Refused by the hub"
