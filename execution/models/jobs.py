"""The jobs of released orders: one setup or process job per route operation, on its resource."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from inventory.fields import QuantityField
from orders.models import ProductionOrder, Resource

from ..choices import (
    JobKind,
    JobStatus,
)


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
    quantity_started = QuantityField()
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
                    planned_quantity__gte=0,
                    quantity_started__gte=0,
                    quantity_good__gte=0,
                    quantity_scrapped__gte=0,
                ),
                name="job_quantities_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.operation_number} {self.get_kind_display()}"
