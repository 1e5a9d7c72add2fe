"""Where stock sits: sites (plants), their warehouses, and the locations in them."""

from django.db import models
from simple_history.models import HistoricalRecords

from ..choices import LocationKind


class Site(models.Model):
    """A plant."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Warehouse(models.Model):
    """A warehouse of a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="warehouses")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="warehouse_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.code}"


class Location(models.Model):
    """A place stock sits: general inventory, or a production input / output location."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(
        max_length=24, choices=LocationKind.choices, default=LocationKind.GENERAL
    )
    allow_negative_stock = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["warehouse__site__code", "warehouse__code", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "code"], name="location_code_unique_per_warehouse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.site.code}/{self.warehouse.code}/{self.code}"

    @property
    def site(self) -> Site:
        return self.warehouse.site
