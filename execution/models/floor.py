"""The floor's people, terminals and reference data: pay agreements, workers, terminals,
absence codes and indirect activities."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from inventory.models import Site
from orders.models import Resource

# Minutes of work time, as every execution model stores them.
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
