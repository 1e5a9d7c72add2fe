"""Shop-floor execution: people, terminals, reference data and the jobs of released orders."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from inventory.fields import QuantityField
from inventory.models import InventoryTransaction, Item, Location, Lot, Site
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource

from .choices import (
    AttendanceStatus,
    JobKind,
    JobStatus,
    LogbookKind,
    ProcessingOutcome,
    RegistrationKind,
    RegistrationStatus,
)

MINUTES = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0")}


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
    # The terminal's own account: its API token posts as this terminal only (its resource's
    # jobs, its site's workers). Issued in the admin or by manage.py issue_terminal_token.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="terminal",
        help_text="The account its API token belongs to (issued, never typed in).",
    )
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


class RawRegistration(FSMModelMixin, models.Model):
    """One shop-floor registration, stored as posted and answered at once; the processor turns
    it into journals later. One model for every kind (RegistrationKind).

    lane: the queue it is processed in, in event-time order: "order:<id>" for registrations
    about an order or its jobs, "worker:<id>" for a worker's attendance. A failed registration
    holds the later ones of its lane.
    """

    uuid = models.UUIDField(unique=True, help_text="Given by the terminal; a repeat is a no-op.")
    kind = models.CharField(max_length=24, choices=RegistrationKind.choices)
    status = FSMField(
        max_length=12,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.NEW,
        protected=True,
    )
    lane = models.CharField(max_length=40)
    occurred_at = models.DateTimeField(help_text="When it happened on the floor.")
    received_at = models.DateTimeField(auto_now_add=True)
    worker = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    terminal = models.ForeignKey(
        Terminal, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    order = models.ForeignKey(
        ProductionOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    # A bundle is posted once (bundle_uuid) and stored as one registration per job.
    bundle_uuid = models.UUIDField(null=True, blank=True)
    bundle_size = models.PositiveSmallIntegerField(default=1)
    quantity = QuantityField(help_text="Started quantity, or a manual consumption (signed).")
    quantity_good = QuantityField()
    quantity_scrap = QuantityField()
    reason_code = models.ForeignKey(
        ReasonCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stops_job = models.BooleanField(default=False, help_text="The worker stops the job after it.")
    completes_job = models.BooleanField(default=False, help_text="The job is finished.")
    absence_code = models.ForeignKey(
        AbsenceCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    absence_minutes = models.DecimalField(**MINUTES)
    indirect_activity = models.ForeignKey(
        IndirectActivity, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lot_number = models.CharField(max_length=64, blank=True, help_text="Lot or serial number.")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    material = models.ForeignKey(
        ProductionOrderMaterial,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    consume = models.BooleanField(
        default=True, help_text="Off: report as finished without consumption."
    )
    note = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=64, default="terminal", help_text="Who posted it.")
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="A correction: the registration it reverses (who: source; why: note).",
    )
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["status", "lane", "occurred_at", "id"], name="rawreg_queue"),
            models.Index(fields=["worker", "kind", "occurred_at"], name="rawreg_worker_kind"),
            models.Index(fields=["job", "worker", "occurred_at"], name="rawreg_job_worker"),
            models.Index(fields=["bundle_uuid"], name="rawreg_bundle"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0, quantity_scrap__gte=0, absence_minutes__gte=0),
                name="rawreg_quantities_not_negative",
            ),
            # A registration is reversed at most once (a canceled correction does not count).
            models.UniqueConstraint(
                fields=["corrects"],
                condition=Q(corrects__isnull=False) & ~Q(status="canceled"),
                name="rawreg_corrected_once",
            ),
            models.CheckConstraint(
                condition=Q(kind="correction", corrects__isnull=False)
                | (~Q(kind="correction") & Q(corrects__isnull=True)),
                name="rawreg_correction_names_its_registration",
            ),
        ]
        permissions = [("correct_rawregistration", "Can correct a processed registration")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.uuid}"

    # The lane queue's transitions (mesproject.lanes); the work lives in execution.services.

    @transition(field=status, source=RegistrationStatus.NEW, target=RegistrationStatus.PROCESSED)
    def processed(self, at) -> None:
        self.processed_at = at
        self.error = self.error_code = ""

    @transition(field=status, source=RegistrationStatus.NEW, target=RegistrationStatus.FAILED)
    def fail(self, message: str, code: str) -> None:
        """Holds the later registrations of its lane."""
        self.error, self.error_code = message, code

    @transition(field=status, source=RegistrationStatus.FAILED, target=RegistrationStatus.NEW)
    def process_again(self) -> None:
        """Back to the queue, after its cause was fixed."""

    @transition(
        field=status,
        source=[RegistrationStatus.NEW, RegistrationStatus.FAILED],
        target=RegistrationStatus.CANCELED,
    )
    def cancel(self) -> None:
        """Given up: never processed; the ones it held go on."""


class ProcessingLogEntry(models.Model):
    """One processing attempt or supervisor action on a registration (the processing log)."""

    registration = models.ForeignKey(
        RawRegistration, on_delete=models.CASCADE, related_name="log_entries"
    )
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=12, choices=ProcessingOutcome.choices)
    message = models.TextField(blank=True)
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "processing log entries"

    def __str__(self) -> str:
        return f"{self.registration_id} {self.outcome}"


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
    approved_by = models.CharField(max_length=150, blank=True)
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
    def approve(self, by: str, at) -> None:
        """Locked against registrations and recalculation."""
        self.approved_by, self.approved_at = by, at

    @transition(field=status, source=AttendanceStatus.APPROVED, target=AttendanceStatus.CALCULATED)
    def unapprove(self) -> None:
        """Back to calculated, so registrations can be corrected."""
        self.approved_by, self.approved_at = "", None

    @transition(field=status, source=AttendanceStatus.APPROVED, target=AttendanceStatus.TRANSFERRED)
    def transfer(self, at) -> None:
        """Sent to payroll: final."""
        self.transferred_at = at
