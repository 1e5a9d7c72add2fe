"""Raw registrations as the floor posts them, and the processing log of each."""

from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.fields import QuantityField
from inventory.models import Location
from mesproject.actors import user_field
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource

from ..choices import (
    ProcessingOutcome,
    RegistrationKind,
    RegistrationStatus,
)
from .floor import MINUTES, AbsenceCode, IndirectActivity, Terminal, Worker
from .jobs import Job


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
    user = user_field()
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "processing log entries"

    def __str__(self) -> str:
        return f"{self.registration_id} {self.outcome}"
