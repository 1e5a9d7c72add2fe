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
