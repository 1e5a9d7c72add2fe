"""factory_boy factories for master data, and helpers that build releasable products and orders.

Orders themselves are created and moved only through orders.services, as in production: a
factory that wrote ProductionOrder rows directly would bypass the rules under test.
"""

import itertools
from dataclasses import dataclass
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from execution.services import order_lifecycle
from inventory.choices import ItemType
from inventory.models import Item, Location, Site, UnitOfMeasure, Warehouse
from mesproject.actors import SYSTEM, Actor
from orders import services
from orders.choices import OrderStatus
from orders.models import (
    Bom,
    BomLine,
    ProductionOrder,
    ReasonCode,
    Resource,
    Route,
    RouteOperation,
)


class UnitOfMeasureFactory(DjangoModelFactory):
    """Pieces by default; UnitOfMeasureFactory(code="kg", decimal_places=3) for a fine unit."""

    class Meta:
        model = UnitOfMeasure
        django_get_or_create = ("code",)

    code = "pcs"
    name = factory.LazyAttribute(lambda unit: unit.code)
    decimal_places = 0


class ItemFactory(DjangoModelFactory):
    class Meta:
        model = Item

    part_number = factory.Sequence(lambda n: f"P-{n:05d}")
    revision = "A"
    description = factory.LazyAttribute(lambda item: f"Item {item.part_number}")
    item_type = ItemType.RAW
    unit = factory.SubFactory(UnitOfMeasureFactory)


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.LazyAttribute(lambda site: f"Plant {site.code}")


class WarehouseFactory(DjangoModelFactory):
    class Meta:
        model = Warehouse

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"W{n:03d}")
    name = factory.LazyAttribute(lambda warehouse: f"Warehouse {warehouse.code}")


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"L{n:03d}")
    name = factory.LazyAttribute(lambda location: f"Location {location.code}")


class ResourceFactory(DjangoModelFactory):
    class Meta:
        model = Resource

    code = factory.Sequence(lambda n: f"RES-{n:03d}")
    name = factory.LazyAttribute(lambda resource: f"Work center {resource.code}")
    site = factory.SubFactory(SiteFactory)


class ReasonCodeFactory(DjangoModelFactory):
    class Meta:
        model = ReasonCode

    code = factory.Sequence(lambda n: f"RC-{n:03d}")
    description = "Scratched surface"


class BomFactory(DjangoModelFactory):
    class Meta:
        model = Bom

    item = factory.SubFactory(ItemFactory, item_type=ItemType.FINISHED)
    revision = factory.SelfAttribute("item.revision")
    approved = True


class BomLineFactory(DjangoModelFactory):
    class Meta:
        model = BomLine

    bom = factory.SubFactory(BomFactory)
    line_number = factory.Sequence(lambda n: (n + 1) * 10)
    component = factory.SubFactory(ItemFactory)
    quantity_per = Decimal("1")


class RouteFactory(DjangoModelFactory):
    class Meta:
        model = Route

    item = factory.SubFactory(ItemFactory, item_type=ItemType.FINISHED)
    revision = factory.SelfAttribute("item.revision")
    name = "Standard route"
    approved = True


class RouteOperationFactory(DjangoModelFactory):
    class Meta:
        model = RouteOperation

    route = factory.SubFactory(RouteFactory)
    operation_number = factory.Sequence(lambda n: (n + 1) * 10)
    name = factory.Sequence(lambda n: f"Operation {n}")
    resource = factory.SubFactory(ResourceFactory)


@dataclass
class Product:
    """A finished item with its approved BOM and route, ready for an order to be released."""

    item: Item
    bom: Bom
    route: Route
    site: Site


def make_releasable_product(
    *, unit: UnitOfMeasure | None = None, site: Site | None = None, lines: int = 3
) -> Product:
    """An item with an approved BOM of `lines` lines and an approved 3-operation route."""
    site = site or SiteFactory()
    item = ItemFactory(item_type=ItemType.FINISHED, unit=unit or UnitOfMeasureFactory())
    bom = BomFactory(item=item)
    for number in range(1, lines + 1):
        BomLineFactory(bom=bom, line_number=number * 10, quantity_per=Decimal(number))
    route = RouteFactory(item=item)
    for number in range(1, 4):
        RouteOperationFactory(
            route=route, operation_number=number * 10, resource=ResourceFactory(site=site)
        )
    return Product(item=item, bom=bom, route=route, site=site)


def make_order(
    product: Product | None = None,
    *,
    quantity: Decimal | int | str = 10,
    tolerance: Decimal | int | str = 0,
    restricted: bool = False,
    actor: Actor = SYSTEM,
    **kwargs,
) -> ProductionOrder:
    """A Created order for the product (a new releasable one by default), via the service."""
    product = product or make_releasable_product()
    return services.production_order_create(
        number=kwargs.pop("number", None) or next_order_number(),
        item=product.item,
        quantity=Decimal(quantity),
        site=product.site,
        over_delivery_tolerance_pct=Decimal(tolerance),
        restricted=restricted,
        actor=actor,
        **kwargs,
    )


_order_counter = itertools.count(1)


def next_order_number() -> str:
    return f"PO-{next(_order_counter):06d}"


def advance_order(order: ProductionOrder, status: str) -> ProductionOrder:
    """Drive a Created order to `status` through the services, the way the floor would.

    In Progress has one unit in progress; Completed and Closed have exactly the order
    quantity completed; Canceled is canceled straight from Created.
    """
    release = order_lifecycle.order_release
    record = order_lifecycle.order_record_quantities
    if status == OrderStatus.CREATED:
        pass
    elif status == OrderStatus.RELEASED:
        order = release(order=order)
    elif status == OrderStatus.IN_PROGRESS:
        order = record(order=release(order=order), in_progress=Decimal(1))
    elif status in (OrderStatus.COMPLETED, OrderStatus.CLOSED):
        order = record(order=release(order=order), good=order.quantity)
        if status == OrderStatus.CLOSED:
            order = order_lifecycle.order_close(order=order)
    elif status == OrderStatus.CANCELED:
        order = order_lifecycle.order_cancel(order=order)
    else:
        raise ValueError(status)
    assert order.status == status, (order.status, status)
    return ProductionOrder.objects.get(pk=order.pk)
