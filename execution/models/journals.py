"""The production journals the processor writes: route card, picking list, report as finished,
genealogy, logbook, and the consumption and job-activity state behind them."""

from django.db import models
from django.db.models import Q

from inventory.fields import QuantityField
from inventory.models import InventoryTransaction, Item, Location, Lot
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource

from ..choices import (
    JobKind,
    LogbookKind,
)
from .floor import MINUTES, Worker
from .jobs import Job
from .registrations import RawRegistration


class MaterialLineState(models.Model):
    """What the flushing engine has consumed for an order material line (flushing.LineState)."""

    material = models.OneToOneField(
        ProductionOrderMaterial, on_delete=models.CASCADE, related_name="consumption_state"
    )
    covered_output = QuantityField()
    consumed = QuantityField()
    manual_consumed = QuantityField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(covered_output__gte=0, consumed__gte=0),
                name="linestate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.material_id}: covered {self.covered_output}, consumed {self.consumed}"


class JobActivity(models.Model):
    """A worker's time on a job, from start to stop (bundled jobs share the time)."""

    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="activities")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="activities")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    start_registration = models.OneToOneField(
        RawRegistration, on_delete=models.PROTECT, related_name="+"
    )
    bundle_uuid = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["worker", "job", "ended_at"], name="activity_open")]
        verbose_name_plural = "job activities"

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.job_id} from {self.started_at:%Y-%m-%d %H:%M}"


class RouteCardLine(models.Model):
    """Route card / job card journal line: a worker's time and the quantities of one job."""

    registration = models.ForeignKey(
        RawRegistration, on_delete=models.PROTECT, related_name="route_card_lines"
    )
    order = models.ForeignKey(
        ProductionOrder, on_delete=models.PROTECT, related_name="route_card_lines"
    )
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="route_card_lines")
    operation_number = models.PositiveIntegerField()
    job_kind = models.CharField(max_length=8, choices=JobKind.choices)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.PROTECT, related_name="route_card_lines"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    minutes = models.DecimalField(**MINUTES)
    bundle_size = models.PositiveSmallIntegerField(default=1)
    quantity_good = QuantityField()
    quantity_scrap = QuantityField()
    reason_code = models.ForeignKey(
        ReasonCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ended_at", "id"]
        verbose_name = "route card / job card line"
        constraints = [
            # A registration is never journaled twice.
            models.UniqueConstraint(fields=["registration"], name="routecard_once"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.operation_number} {self.minutes} min"


class PickingListLine(models.Model):
    """Picking list journal line: material consumed by (or returned from) an order."""

    registration = models.ForeignKey(
        RawRegistration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="picking_list_lines",
    )
    line_number = models.PositiveSmallIntegerField(help_text="Position within its registration.")
    order = models.ForeignKey(
        ProductionOrder, on_delete=models.PROTECT, related_name="picking_list_lines"
    )
    material = models.ForeignKey(
        ProductionOrderMaterial, on_delete=models.PROTECT, related_name="picking_list_lines"
    )
    component = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField(help_text="Consumed; negative: returned to stock.")
    principle = models.CharField(max_length=24)
    event = models.CharField(max_length=24)
    operation_number = models.PositiveIntegerField(null=True, blank=True)
    covered_from = QuantityField(null=True, blank=True)
    covered_to = QuantityField(null=True, blank=True)
    inventory_transaction = models.OneToOneField(
        InventoryTransaction, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "line_number"], name="pickinglist_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.component_id} {self.quantity}"


class ReportAsFinishedLine(models.Model):
    """Report as finished journal line: good (and scrapped) output received for an order."""

    registration = models.OneToOneField(
        RawRegistration, on_delete=models.PROTECT, related_name="report_as_finished_line"
    )
    order = models.ForeignKey(
        ProductionOrder, on_delete=models.PROTECT, related_name="report_as_finished_lines"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity_good = QuantityField()
    quantity_scrap = QuantityField()
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inventory_transaction = models.OneToOneField(
        InventoryTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.quantity_good} good"


class GenealogyLink(models.Model):
    """A finished lot / serial and a component lot that went into it (as-built record)."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.PROTECT, related_name="+")
    finished_lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="components")
    component_lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="used_in")
    quantity = QuantityField()
    registration = models.ForeignKey(RawRegistration, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "component_lot"], name="genealogy_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.finished_lot_id} <- {self.component_lot_id}"


class LogbookEntry(models.Model):
    """What happened to an order, a job or a worker, in words a supervisor reads."""

    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=LogbookKind.choices, default=LogbookKind.INFO)
    order = models.ForeignKey(
        ProductionOrder,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="logbook",
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    worker = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registration = models.ForeignKey(
        RawRegistration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "logbook entries"
        indexes = [models.Index(fields=["order", "at"], name="logbook_order_at")]

    def __str__(self) -> str:
        return self.text
