"""Hub and scale units: who runs which site, and what travels between the two.

On the hub: ScaleUnit (with the sites it runs) and HubPackage (what it must take). On a scale
unit: ReceivedPackage (the packages taken, applied in order: the processing history),
HubForward (its registrations on their way to the hub) and HubLink (the state of the link).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import Site
from mesproject.actors import Actor, label_field, user_field

from ..choices import ForwardStatus, PackageKind, PackageStatus


class ScaleUnit(models.Model):
    """Hub side: a scale unit, the sites whose execution it runs and its credentials."""

    code = models.CharField(max_length=32, unique=True, help_text="Its MES_SCALE_UNIT_ID.")
    name = models.CharField(max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="scale_unit",
        help_text="The account its token belongs to.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    # The last package the scale unit has stored: it asks for what comes after it.
    acked_package_id = models.PositiveBigIntegerField(default=0)
    # What the scale unit reported of itself at its last contact.
    reported_backlog = models.PositiveIntegerField(default=0)
    reported_failed_packages = models.PositiveIntegerField(default=0)
    reported_rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ScaleUnitSite(models.Model):
    """A site whose execution runs on a scale unit; a site has one scale unit at most."""

    scale_unit = models.ForeignKey(ScaleUnit, on_delete=models.CASCADE, related_name="sites")
    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="scale_unit_site")

    def __str__(self) -> str:
        return f"{self.site_id} -> {self.scale_unit_id}"


class HubPackage(models.Model):
    """Hub side: one package for a scale unit, taken in id order."""

    scale_unit = models.ForeignKey(ScaleUnit, on_delete=models.CASCADE, related_name="packages")
    kind = models.CharField(max_length=16, choices=PackageKind.choices)
    order_number = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=64, help_text="release, cancel, quantity change...")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["scale_unit", "id"], name="hubpackage_unit_id")]

    def __str__(self) -> str:
        return f"{self.scale_unit_id} #{self.pk} {self.kind} {self.order_number}"


class ReceivedPackage(FSMModelMixin, models.Model):
    """Scale unit side: a package taken from the hub; applied in hub order, per order."""

    hub_id = models.PositiveBigIntegerField(unique=True, help_text="Its id on the hub.")
    kind = models.CharField(max_length=16, choices=PackageKind.choices)
    order_number = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=64)
    payload = models.JSONField()
    status = FSMField(
        max_length=12, choices=PackageStatus.choices, default=PackageStatus.NEW, protected=True
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_on_hub_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    handled_by = user_field()
    handled_by_actor = label_field()

    class Meta:
        ordering = ["hub_id"]
        indexes = [models.Index(fields=["status", "hub_id"], name="received_status_hub")]

    def __str__(self) -> str:
        return f"#{self.hub_id} {self.kind} {self.order_number}"

    # The lane queue's transitions (mesproject.lanes); applying is the scale unit's service.

    @transition(field=status, source=PackageStatus.NEW, target=PackageStatus.PROCESSED)
    def processed(self, at, actor: Actor) -> None:
        self.processed_at, self.error = at, ""
        actor.stamp(self, "handled_by")

    @transition(field=status, source=PackageStatus.NEW, target=PackageStatus.FAILED)
    def fail(self, error: str, actor: Actor) -> None:
        """Holds the later packages of its order."""
        self.error = error
        actor.stamp(self, "handled_by")

    @transition(
        field=status, source=[PackageStatus.FAILED, PackageStatus.NEW], target=PackageStatus.NEW
    )
    def process_again(self) -> None:
        """Back to the queue, to be applied now."""

    @transition(
        field=status,
        source=[PackageStatus.NEW, PackageStatus.FAILED],
        target=PackageStatus.CANCELED,
    )
    def cancel(self, actor: Actor) -> None:
        """Given up; the later packages of its order go on."""
        actor.stamp(self, "handled_by")


class HubForward(FSMModelMixin, models.Model):
    """Scale unit side: a registration accepted here, to be posted to the hub as it was
    accepted (the hub derives bundle members and clock-out stops the same way)."""

    registration_uuid = models.UUIDField(unique=True)
    kind = models.CharField(max_length=24)
    order_number = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField(help_text="The registration as the hub's API takes it.")
    status = FSMField(
        max_length=12, choices=ForwardStatus.choices, default=ForwardStatus.PENDING, protected=True
    )
    attempts = models.PositiveIntegerField(default=0)
    hub_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Sent in the order accepted: each was valid against what was accepted before it.
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "id"], name="hubforward_status_id")]
        constraints = [
            models.CheckConstraint(
                condition=Q(attempts__gte=0), name="hubforward_attempts_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.registration_uuid} ({self.status})"

    @transition(field=status, source=ForwardStatus.PENDING, target=ForwardStatus.SENT)
    def accepted(self, code: int, at) -> None:
        self.hub_status, self.sent_at, self.error = code, at, ""

    @transition(field=status, source=ForwardStatus.PENDING, target=ForwardStatus.REJECTED)
    def rejected(self, code: int, at, error: str) -> None:
        self.hub_status, self.sent_at, self.error = code, at, error

    @transition(field=status, source=ForwardStatus.REJECTED, target=ForwardStatus.PENDING)
    def send_again(self) -> None:
        """After its cause was fixed on the hub."""


class HubLink(models.Model):
    """Scale unit side, one row: how the link to the hub is doing."""

    name = models.CharField(max_length=16, primary_key=True, default="hub")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_package_id = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"hub link ({self.consecutive_failures} failures)"
