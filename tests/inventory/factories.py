"""Factories for inventory tests (and the orders objects a release needs)."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from inventory.choices import LocationKind, Tracking
from inventory.models import Item, Location, Site, UnitConversion, UnitOfMeasure, Warehouse
from orders.models import Bom, BomLine, Resource, Route, RouteOperation


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = UnitOfMeasure
        django_get_or_create = ("code",)

    code = "PCS"
    name = factory.LazyAttribute(lambda o: o.code.lower())
    decimal_places = 0


class ItemFactory(DjangoModelFactory):
    class Meta:
        model = Item

    part_number = factory.Sequence(lambda n: f"P-{n:05d}")
    description = factory.LazyAttribute(lambda o: f"part {o.part_number}")
    unit = factory.SubFactory(UnitFactory)
    tracking = Tracking.NONE


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = "S1"
    name = "Plant 1"


class WarehouseFactory(DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("site", "code")

    site = factory.SubFactory(SiteFactory)
    code = "WH1"
    name = "Main warehouse"


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"L{n:04d}")
    kind = LocationKind.GENERAL


class ConversionFactory(DjangoModelFactory):
    class Meta:
        model = UnitConversion

    factor = Decimal("1")


class ResourceFactory(DjangoModelFactory):
    class Meta:
        model = Resource

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.LazyAttribute(lambda o: f"resource {o.code}")
    site = factory.SubFactory(SiteFactory)


def make_bom_and_route(product: Item, components, *, site: Site) -> tuple[Bom, Route]:
    """An approved BOM (components: (item, quantity_per, scrap_pct)) and a one-step route."""
    bom = Bom.objects.create(item=product, revision=product.revision, approved=True)
    for number, (component, quantity_per, scrap) in enumerate(components, start=1):
        BomLine.objects.create(
            bom=bom,
            line_number=number * 10,
            component=component,
            quantity_per=Decimal(quantity_per),
            scrap_allowance_pct=Decimal(scrap),
        )
    route = Route.objects.create(item=product, revision=product.revision, approved=True)
    RouteOperation.objects.create(
        route=route, operation_number=10, name="Assemble", resource=ResourceFactory(site=site)
    )
    return bom, route
