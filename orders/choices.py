from django.db import models

from inventory.choices import FlushingPrinciple


class OrderStatus(models.TextChoices):
    """In the order of an order's life (lists and charts sort by it)."""

    CREATED = "created", "Created"
    RELEASED = "released", "Released"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"


class BomLinePrinciple(models.TextChoices):
    """A BOM line's flushing principle; None falls back to the component item's default."""

    NONE = "none", "None (item default)"
    MANUAL = FlushingPrinciple.MANUAL.value, FlushingPrinciple.MANUAL.label
    START = FlushingPrinciple.START.value, FlushingPrinciple.START.label
    OPERATION_FINISH = (
        FlushingPrinciple.OPERATION_FINISH.value,
        FlushingPrinciple.OPERATION_FINISH.label,
    )
    PRODUCTION_FINISH = (
        FlushingPrinciple.PRODUCTION_FINISH.value,
        FlushingPrinciple.PRODUCTION_FINISH.label,
    )
    AVAILABLE_AT_LOCATION = (
        FlushingPrinciple.AVAILABLE_AT_LOCATION.value,
        FlushingPrinciple.AVAILABLE_AT_LOCATION.label,
    )


class ResourceKind(models.TextChoices):
    WORK_CENTER = "work_center", "Work center"
    MACHINE = "machine", "Machine"
    PACKAGING = "packaging", "Packaging equipment"


class ConsumptionSetting(models.TextChoices):
    """Where a resource's feedback consumes materials (per resource, not per site)."""

    ON_OPERATION_FEEDBACK = "on_operation_feedback", "On operation feedback"
    ON_REPORT_AS_FINISHED = "on_report_as_finished", "On report as finished"
    NEVER = "never", "Never"


class ReasonKind(models.TextChoices):
    SCRAP = "scrap", "Scrap / defect"
    DOWNTIME = "downtime", "Downtime"
    ADJUSTMENT = "adjustment", "Adjustment"
    OTHER = "other", "Other"


class Transition(models.TextChoices):
    """Every production order transition, manual and automatic."""

    RELEASE = "release", "Release"
    UNRELEASE = "unrelease", "Unrelease"
    START = "start", "Start (automatic)"
    COMPLETE = "complete", "Complete (automatic)"
    RESUME = "resume", "Resume (automatic)"
    CANCEL = "cancel", "Cancel"
    CLOSE = "close", "Close"
    REOPEN = "reopen", "Reopen"
    UNTERMINATE = "unterminate", "Unterminate"


# Transitions a person may ask for; the automatic ones follow from reported quantities.
MANUAL_TRANSITIONS = (
    Transition.RELEASE,
    Transition.UNRELEASE,
    Transition.CANCEL,
    Transition.CLOSE,
    Transition.REOPEN,
    Transition.UNTERMINATE,
)
