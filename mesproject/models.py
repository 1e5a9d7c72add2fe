"""Records every app shares: the background tasks people start from pages."""

from django.db import models


class TaskState(models.TextChoices):
    WAITING = "waiting", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BackgroundTask(models.Model):
    """A long task a person started from a page (a Celery task): who, when, its progress and
    what it did. Kept in the database, so its outcome survives a restart and can be listed;
    watching it takes the permission that starting it took."""

    task_id = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=120)
    permission = models.CharField(max_length=120, help_text="Needed to watch it.")
    started_by = models.CharField(max_length=150)
    started_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=TaskState.choices, default=TaskState.WAITING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=500, blank=True)
    link = models.CharField(max_length=300, blank=True, help_text="Where its result is shown.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (TaskState.DONE, TaskState.FAILED)
