from django.db import models


class JobKind(models.TextChoices):
    SETUP = "setup", "Setup"
    PROCESS = "process", "Process"


class JobStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    STARTED = "started", "Started"
    STOPPED = "stopped", "Stopped"
    COMPLETED = "completed", "Completed"
