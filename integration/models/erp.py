"""What the ERP asks for that people decide on, the defect mapping, and in-app alerts."""

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from mesproject.actors import Actor, label_field, user_field
from orders.models import ProductionOrder, ReasonCode

from ..choices import ChangeRequestStatus, NotificationKind


class ChangeRequest(FSMModelMixin, models.Model):
    """An ERP change to an order already running on the floor: applied when a supervisor
    approves it, so the line is not disrupted."""

    order = models.ForeignKey(
        ProductionOrder, on_delete=models.CASCADE, related_name="change_requests"
    )
    changes = models.JSONField(help_text="Field -> new value, as the ERP sent it.")
    # Protected: a newer request supersedes the pending ones in one UPDATE (work_orders).
    status = FSMField(
        max_length=16,
        choices=ChangeRequestStatus.choices,
        default=ChangeRequestStatus.PENDING,
        protected=True,
    )
    requested_by = user_field()
    requested_by_actor = label_field()
    requested_at = models.DateTimeField()
    decided_by = user_field()
    decided_by_actor = label_field()
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"Change of {self.order} ({self.get_status_display()})"

    @transition(
        field=status, source=ChangeRequestStatus.PENDING, target=ChangeRequestStatus.APPROVED
    )
    def approve(self, actor: Actor, at, note: str) -> None:
        actor.stamp(self, "decided_by")
        self.decided_at, self.decision_note = at, note

    @transition(
        field=status, source=ChangeRequestStatus.PENDING, target=ChangeRequestStatus.REJECTED
    )
    def reject(self, actor: Actor, at, note: str) -> None:
        actor.stamp(self, "decided_by")
        self.decided_at, self.decision_note = at, note


class ForceCloseRequest(models.Model):
    """An ERP force close waiting for the units on the floor to finish their operation."""

    order = models.OneToOneField(
        ProductionOrder, on_delete=models.CASCADE, related_name="force_close_request"
    )
    requested_by = user_field()
    requested_by_actor = label_field()
    requested_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Force close of {self.order}"


class DefectReasonMapping(models.Model):
    """The ERP reason code (and cost center) for an MES defect code; unmapped is an error."""

    defect = models.OneToOneField(ReasonCode, on_delete=models.PROTECT, related_name="erp_mapping")
    erp_reason_code = models.CharField(max_length=32)
    cost_center = models.CharField(max_length=32)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["defect__code"]
        verbose_name = "defect to ERP reason code"

    def __str__(self) -> str:
        return f"{self.defect.code} -> {self.erp_reason_code}"


class Notification(models.Model):
    """An in-app alert for the people of one role (DLQ, audit flag, change request)."""

    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    role = models.CharField(max_length=32, help_text="The group that should see it.")
    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    dedup_key = models.CharField(
        max_length=120, blank=True, help_text="One open alert per key and role."
    )
    created_at = models.DateTimeField()
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["role", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "dedup_key"],
                condition=~models.Q(dedup_key=""),
                name="notification_unique_dedup",
            )
        ]

    def __str__(self) -> str:
        return self.title
