"""The ERP's WIP balances and the nightly comparison with the MES's."""

from django.conf import settings
from django.db import models

from inventory.fields import QuantityField
from inventory.models import AdjustmentJournal

from ..choices import RunStatus


class ErpWipSnapshot(models.Model):
    """WIP balances as the ERP books them, per work order and component, at one moment."""

    as_of = models.DateTimeField(help_text="When the ERP took the balances.")
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"ERP WIP as of {self.as_of:%Y-%m-%d %H:%M}"


class ErpWipLine(models.Model):
    snapshot = models.ForeignKey(ErpWipSnapshot, on_delete=models.CASCADE, related_name="lines")
    wo_id = models.CharField(max_length=64)
    component_part = models.CharField(max_length=64)
    quantity = QuantityField()
    uom = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "wo_id", "component_part"], name="erpwip_unique_line"
            )
        ]

    def __str__(self) -> str:
        return f"{self.wo_id}/{self.component_part}: {self.quantity}"


class ReconciliationRun(models.Model):
    """One comparison of the latest ERP snapshot with the MES WIP (nightly, or on demand)."""

    snapshot = models.ForeignKey(
        ErpWipSnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    trigger = models.CharField(max_length=16, help_text="beat, button or command")
    started_by = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pairs_total = models.PositiveIntegerField(default=0)
    pairs_done = models.PositiveIntegerField(default=0)
    variances_flagged = models.PositiveIntegerField(default=0)
    adjustment_journal = models.ForeignKey(
        AdjustmentJournal, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class ReconciliationVariance(models.Model):
    """A pair whose ERP and MES WIP differ beyond the threshold, flagged for audit."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="variances")
    wo_id = models.CharField(max_length=64)
    component_part = models.CharField(max_length=64)
    erp_quantity = QuantityField()
    mes_quantity = QuantityField()
    variance = QuantityField(help_text="ERP minus MES.")
    variance_pct = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    adjusted = models.BooleanField(default=False)
    audit_flag = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "wo_id", "component_part"]
        indexes = [models.Index(fields=["wo_id", "component_part"])]

    def __str__(self) -> str:
        return f"{self.wo_id}/{self.component_part}: {self.variance}"
