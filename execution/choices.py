from django.db import models


class JobKind(models.TextChoices):
    SETUP = "setup", "Setup"
    PROCESS = "process", "Process"


class JobStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    STARTED = "started", "Started"
    STOPPED = "stopped", "Stopped"
    COMPLETED = "completed", "Completed"


class RegistrationKind(models.TextChoices):
    """Every kind of shop-floor registration a terminal (or a scale unit) can post."""

    CLOCK_IN = "clock_in", "Clock in"
    CLOCK_OUT = "clock_out", "Clock out"
    ABSENCE = "absence", "Absence"
    START_JOB = "start_job", "Start job"
    BUNDLE = "bundle", "Start job in a bundle"
    STOP_JOB = "stop_job", "Stop job"
    REPORT_PROGRESS = "report_progress", "Report progress"
    REPORT_SCRAP = "report_scrap", "Report scrap"
    INDIRECT_START = "indirect_start", "Start indirect activity"
    INDIRECT_STOP = "indirect_stop", "Stop indirect activity"
    BREAK_START = "break_start", "Start break"
    BREAK_STOP = "break_stop", "Stop break"
    REPORT_AS_FINISHED = "report_as_finished", "Report as finished"
    CONSUME_MATERIAL = "consume_material", "Consume material (manual / correction)"
    # A supervisor's reversal of a processed registration (execution/services/corrections.py).
    CORRECTION = "correction", "Correction"


# Kinds that concern a job; they are processed in the lane of the job's order.
JOB_KINDS = (
    RegistrationKind.START_JOB,
    RegistrationKind.BUNDLE,
    RegistrationKind.STOP_JOB,
    RegistrationKind.REPORT_PROGRESS,
    RegistrationKind.REPORT_SCRAP,
)
# Kinds that concern an order (jobs' kinds included).
ORDER_KINDS = (*JOB_KINDS, RegistrationKind.REPORT_AS_FINISHED, RegistrationKind.CONSUME_MATERIAL)
# Kinds that open a worker's time on a job, and those that end it.
JOB_START_KINDS = (RegistrationKind.START_JOB, RegistrationKind.BUNDLE)


class RegistrationStatus(models.TextChoices):
    NEW = "new", "New"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class ProcessingOutcome(models.TextChoices):
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    REQUEUED = "requeued", "Queued to process again"
    CORRECTED = "corrected", "Correction requested"


class LogbookKind(models.TextChoices):
    INFO = "info", "Information"
    QUANTITY = "quantity", "Quantity reported"
    CONSUMPTION = "consumption", "Material consumed"
    TRANSITION = "transition", "Status change"
    PROBLEM = "problem", "Problem"
    CORRECTION = "correction", "Correction"


class AttendanceStatus(models.TextChoices):
    CALCULATED = "calculated", "Calculated"
    APPROVED = "approved", "Approved"
    TRANSFERRED = "transferred", "Transferred to payroll"
