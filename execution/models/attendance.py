"""Time and attendance: a worker's calculated day and its approval."""

from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from mesproject.actors import Actor, label_field, user_field

from ..choices import (
    AttendanceStatus,
)
from .floor import MINUTES, Worker


class AttendanceDay(FSMModelMixin, models.Model):
    """A worker's day calculated from the registrations (time and attendance)."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="attendance_days")
    date = models.DateField()
    status = FSMField(
        max_length=12,
        choices=AttendanceStatus.choices,
        default=AttendanceStatus.CALCULATED,
        protected=True,
    )
    clocked_minutes = models.DecimalField(**MINUTES)
    break_minutes = models.DecimalField(**MINUTES)
    worked_minutes = models.DecimalField(**MINUTES)
    job_minutes = models.DecimalField(**MINUTES)
    indirect_minutes = models.DecimalField(**MINUTES)
    absence_minutes = models.DecimalField(**MINUTES)
    paid_minutes = models.DecimalField(**MINUTES)
    overtime_minutes = models.DecimalField(**MINUTES)
    calculated_at = models.DateTimeField(null=True, blank=True)
    approved_by = user_field()
    approved_by_actor = label_field()
    approved_at = models.DateTimeField(null=True, blank=True)
    transferred_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "worker"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "date"], name="attendance_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.worker.badge_id} {self.date}"

    # The transitions only move the status; the rules live in execution.services.attendance.

    @transition(
        field=status, source=AttendanceStatus.CALCULATED, target=AttendanceStatus.CALCULATED
    )
    def calculate(self, at) -> None:
        """Calculated again: only while no one approved it."""
        self.calculated_at = at

    @transition(field=status, source=AttendanceStatus.CALCULATED, target=AttendanceStatus.APPROVED)
    def approve(self, actor: Actor, at) -> None:
        """Locked against registrations and recalculation."""
        actor.stamp(self, "approved_by")
        self.approved_at = at

    @transition(field=status, source=AttendanceStatus.APPROVED, target=AttendanceStatus.CALCULATED)
    def unapprove(self) -> None:
        """Back to calculated, so registrations can be corrected."""
        self.approved_by, self.approved_by_actor, self.approved_at = None, "", None

    @transition(field=status, source=AttendanceStatus.APPROVED, target=AttendanceStatus.TRANSFERRED)
    def transfer(self, at) -> None:
        """Sent to payroll: final."""
        self.transferred_at = at
