"""Shop-floor execution: people, terminals, reference data and the jobs of released orders."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from inventory.fields import QuantityField
from inventory.models import Site
from orders.models import ProductionOrder, Resource

from .choices import JobKind, JobStatus


class PayAgreement(models.Model):
    """How a worker's day is paid: standard day length and when overtime starts."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    standard_minutes_per_day = models.PositiveIntegerField(default=480)
    overtime_after_minutes = models.PositiveIntegerField(default=480)
    paid_breaks = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Worker(models.Model):
    """A person on the floor, identified at terminals by badge (and PIN)."""

    badge_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="workers")
    pay_agreement = models.ForeignKey(
        PayAgreement, on_delete=models.PROTECT, related_name="workers"
    )
    pin_hash = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords(excluded_fields=["pin_hash"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.badge_id} {self.name}"


class Terminal(models.Model):
    """A shop-floor device bound to a resource (job terminal, scanner, packaging robot)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="terminals")
    report_as_finished_consumes = models.BooleanField(
        default=True,
        help_text="Off for devices (packaging robots, scanners) whose report as finished "
        "must never consume material.",
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.resource.code})"


class AbsenceCode(models.Model):
    """Why a worker is away (sick, vacation, doctor...)."""

    code = models.CharField(max_length=16, unique=True)
    description = models.CharField(max_length=100)
    paid = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class IndirectActivity(models.Model):
    """Work that is not on a job: cleaning, meetings, training..."""

    code = models.CharField(max_length=16, unique=True)
    description = models.CharField(max_length=100)
    paid = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "indirect activities"

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Job(models.Model):
    """One setup or process job of a route operation of a released order, on its resource."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.CASCADE, related_name="jobs")
    operation_number = models.PositiveIntegerField()
    operation_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=JobKind.choices)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="jobs")
    sequence = models.PositiveIntegerField(
        help_text="Position in the resource's operational plan; the supervisor may change it."
    )
    planned_quantity = QuantityField()
    planned_minutes = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.NOT_STARTED
    )
    on_hold = models.BooleanField(default=False)
    quantity_good = QuantityField()
    quantity_scrapped = QuantityField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["resource", "sequence", "id"]
        indexes = [models.Index(fields=["resource", "status", "sequence"])]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "operation_number", "kind"], name="job_unique_per_operation"
            ),
            models.CheckConstraint(
                condition=Q(
                    planned_quantity__gte=0, quantity_good__gte=0, quantity_scrapped__gte=0
                ),
                name="job_quantities_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.operation_number} {self.get_kind_display()}"
