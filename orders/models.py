"""Resources, BOMs, routes, reason codes and production orders with their state machine."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_fsm import GET_STATE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from inventory.fields import QuantityField, show
from inventory.models import Item, Location, Site, UnitOfMeasure

from .choices import (
    BomLinePrinciple,
    ConsumptionSetting,
    OrderStatus,
    ReasonKind,
    ResourceKind,
)

PERCENT = {"max_digits": 7, "decimal_places": 4}


class Resource(models.Model):
    """A work center or machine; it says itself whether its feedback consumes materials."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="resources")
    kind = models.CharField(
        max_length=16, choices=ResourceKind.choices, default=ResourceKind.WORK_CENTER
    )
    consumption_setting = models.CharField(
        max_length=24,
        choices=ConsumptionSetting.choices,
        default=ConsumptionSetting.ON_OPERATION_FEEDBACK,
    )
    input_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    output_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        for field in ("input_location", "output_location"):
            location = getattr(self, field)
            if location and self.site_id and location.warehouse.site_id != self.site_id:
                raise ValidationError({field: "The location must belong to the resource's site."})


class ReasonCode(models.Model):
    """Why something was scrapped, stopped or adjusted."""

    code = models.CharField(max_length=32, unique=True)
    description = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ReasonKind.choices, default=ReasonKind.SCRAP)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Bom(models.Model):
    """A bill of materials of an item revision; only an approved BOM can be released."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="boms")
    revision = models.CharField(max_length=16)
    description = models.CharField(max_length=200, blank=True)
    approved = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "BOM"
        ordering = ["item__part_number", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["item", "revision"], name="bom_unique_item_revision")
        ]

    def __str__(self) -> str:
        return f"BOM {self.item.part_number} rev {self.revision}"


class BomLine(models.Model):
    """One component of a BOM, with its ratio, scrap allowance and flushing principle."""

    bom = models.ForeignKey(Bom, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    component = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="used_in")
    quantity_per = QuantityField(help_text="Component quantity per one unit of the parent.")
    scrap_allowance_pct = models.DecimalField(default=Decimal("0"), **PERCENT)
    flushing_principle = models.CharField(
        max_length=24, choices=BomLinePrinciple.choices, default=BomLinePrinciple.NONE
    )
    operation_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the route's first operation."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["bom", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["bom", "line_number"], name="bomline_unique_number"),
            models.CheckConstraint(condition=Q(quantity_per__gt=0), name="bomline_qty_positive"),
            models.CheckConstraint(
                condition=Q(scrap_allowance_pct__gte=0, scrap_allowance_pct__lte=100),
                name="bomline_scrap_allowance_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_number}: {self.component.part_number} x {show(self.quantity_per)}"

    def clean(self) -> None:
        if self.bom_id and self.component_id and self.bom.item_id == self.component_id:
            raise ValidationError({"component": "An item cannot be a component of itself."})

    @property
    def effective_flushing_principle(self) -> str:
        if self.flushing_principle == BomLinePrinciple.NONE:
            return self.component.default_flushing_principle
        return self.flushing_principle


class Route(models.Model):
    """The operations an item revision goes through; only an approved route can be released."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="routes")
    revision = models.CharField(max_length=16)
    name = models.CharField(max_length=100, blank=True)
    approved = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["item__part_number", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["item", "revision"], name="route_unique_item_revision")
        ]

    def __str__(self) -> str:
        return f"Route {self.item.part_number} rev {self.revision}"


class RouteOperation(models.Model):
    """One operation of a route, done on a resource."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="operations")
    operation_number = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="operations")
    setup_time_minutes = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    run_time_minutes_per_unit = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["route", "operation_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "operation_number"], name="routeop_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(setup_time_minutes__gte=0, run_time_minutes_per_unit__gte=0),
                name="routeop_times_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_number} {self.name} @ {self.resource.code}"


class ProductionOrder(ConcurrentTransitionMixin, models.Model):
    """A demand to build a quantity of an item; its status moves only through services."""

    number = models.CharField(max_length=64, unique=True)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="production_orders")
    revision = models.CharField(max_length=16)
    quantity = QuantityField()
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="+")
    over_delivery_tolerance_pct = models.DecimalField(default=Decimal("0"), **PERCENT)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(default=5, help_text="1 is the most urgent.")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="production_orders")
    restricted = models.BooleanField(
        default=False, help_text="No materials may be assigned to or removed from the order."
    )
    status = FSMField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.CREATED, protected=True
    )
    bom = models.ForeignKey(Bom, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity_in_progress = QuantityField()
    quantity_completed = QuantityField(help_text="Good quantity reported.")
    quantity_scrapped = QuantityField()
    closing_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set while the ERP force closes the order: only the units already at an "
        "operation may finish it, nothing new starts. Cleared when the order closes.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "scheduled_start"]),
            models.Index(fields=["site", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(
                    quantity_in_progress__gte=0,
                    quantity_completed__gte=0,
                    quantity_scrapped__gte=0,
                ),
                name="order_quantities_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(over_delivery_tolerance_pct__gte=0),
                name="order_tolerance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=9), name="order_priority_1_9"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # The transitions only move the status; guards and effects live in orders.services.

    @transition(field=status, source=OrderStatus.CREATED, target=OrderStatus.RELEASED)
    def release(self) -> None:
        """Planner releases the order to the floor."""

    @transition(field=status, source=OrderStatus.RELEASED, target=OrderStatus.CREATED)
    def unrelease(self) -> None:
        """Back to Created while nothing has been registered."""

    @transition(field=status, source=OrderStatus.RELEASED, target=OrderStatus.IN_PROGRESS)
    def start(self) -> None:
        """Automatic: the first start or progress registration."""

    @transition(field=status, source=OrderStatus.IN_PROGRESS, target=OrderStatus.COMPLETED)
    def complete(self) -> None:
        """Automatic: the completed quantity reached the order quantity."""

    @transition(field=status, source=OrderStatus.COMPLETED, target=OrderStatus.IN_PROGRESS)
    def resume(self) -> None:
        """Automatic: quantity raised or work reported again."""

    @transition(
        field=status,
        source=[
            OrderStatus.CREATED,
            OrderStatus.RELEASED,
            OrderStatus.IN_PROGRESS,
            OrderStatus.COMPLETED,
        ],
        target=OrderStatus.CANCELED,
    )
    def cancel(self) -> None:
        """Stop the order; nothing already posted is undone."""

    @transition(field=status, source=OrderStatus.COMPLETED, target=OrderStatus.CLOSED)
    def close(self) -> None:
        """Final: the order is frozen."""

    @transition(field=status, source=OrderStatus.CLOSED, target=OrderStatus.COMPLETED)
    def reopen(self) -> None:
        """Undo a close."""

    @transition(
        field=status,
        source=OrderStatus.CANCELED,
        target=GET_STATE(
            lambda order: order.implied_status(),
            states=[OrderStatus.CREATED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED],
        ),
    )
    def unterminate(self) -> None:
        """Undo a cancel, landing where the quantities say the order is."""

    def has_activity(self) -> bool:
        return any(
            q > 0
            for q in (self.quantity_in_progress, self.quantity_completed, self.quantity_scrapped)
        )

    def implied_running_status(self) -> str:
        """Completed once the target is met and nothing is left on the floor."""
        if self.quantity_completed >= self.quantity and self.quantity_in_progress == 0:
            return OrderStatus.COMPLETED
        return OrderStatus.IN_PROGRESS

    def implied_status(self) -> str:
        """The status the quantities imply for an order coming back from Canceled."""
        return self.implied_running_status() if self.has_activity() else OrderStatus.CREATED

    @property
    def max_completed_quantity(self) -> Decimal:
        return self.quantity * (1 + self.over_delivery_tolerance_pct / 100)

    @property
    def is_frozen(self) -> bool:
        return self.status == OrderStatus.CLOSED


class ProductionOrderMaterial(models.Model):
    """A component line of an order, exploded from the BOM at release or added by a planner."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.CASCADE, related_name="materials")
    line_number = models.PositiveIntegerField()
    component = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity_per = QuantityField()
    scrap_allowance_pct = models.DecimalField(default=Decimal("0"), **PERCENT)
    flushing_principle = models.CharField(
        max_length=24, choices=BomLinePrinciple.choices, default=BomLinePrinciple.NONE
    )
    operation_number = models.PositiveIntegerField(null=True, blank=True)
    bom_line = models.ForeignKey(
        BomLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "line_number"], name="ordermaterial_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(quantity_per__gt=0), name="ordermaterial_qty_positive"
            ),
            models.CheckConstraint(
                condition=Q(scrap_allowance_pct__gte=0, scrap_allowance_pct__lte=100),
                name="ordermaterial_scrap_allowance_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_number} {self.component.part_number}"

    @property
    def effective_flushing_principle(self) -> str:
        if self.flushing_principle == BomLinePrinciple.NONE:
            return self.component.default_flushing_principle
        return self.flushing_principle


class ProductionOrderStep(models.Model):
    """A slice of a long order, made by splitting its remaining quantity by a step size."""

    order = models.ForeignKey(ProductionOrder, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveIntegerField()
    quantity = QuantityField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="orderstep_unique_sequence"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderstep_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} step {self.sequence}"


class OrderTransitionLog(models.Model):
    """Who moved an order from which status to which, when and why."""

    order = models.ForeignKey(
        ProductionOrder, on_delete=models.CASCADE, related_name="transition_log"
    )
    transition = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.CharField(max_length=64, help_text="The user or the process that asked.")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "at", "id"]
        indexes = [models.Index(fields=["order", "at"])]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} -> {self.to_status}"
