"""Fixtures of the inventory tests: a site with stock and production locations, items."""

from decimal import Decimal

import pytest

from inventory import services
from inventory.choices import LocationKind, SourceType, Tracking
from inventory.services import Source
from mesproject.actors import Actor

from .factories import ItemFactory, LocationFactory, SiteFactory, UnitFactory, WarehouseFactory

D = Decimal


@pytest.fixture
def actor():
    return Actor(process="tests")


@pytest.fixture
def pcs(db):
    return UnitFactory(code="PCS", decimal_places=0)


@pytest.fixture
def kg(db):
    return UnitFactory(code="KG", decimal_places=3)


@pytest.fixture
def site(db):
    return SiteFactory(code="S1")


@pytest.fixture
def warehouse(site):
    return WarehouseFactory(site=site, code="WH1")


@pytest.fixture
def stock(warehouse):
    return LocationFactory(warehouse=warehouse, code="STOCK")


@pytest.fixture
def stock2(warehouse):
    return LocationFactory(warehouse=warehouse, code="STOCK2")


@pytest.fixture
def line_in(warehouse):
    return LocationFactory(warehouse=warehouse, code="10-IN", kind=LocationKind.PRODUCTION_INPUT)


@pytest.fixture
def item(pcs):
    return ItemFactory(part_number="BOLT", unit=pcs)


@pytest.fixture
def steel(kg):
    return ItemFactory(part_number="STEEL", unit=kg)


@pytest.fixture
def lot_item(kg):
    return ItemFactory(part_number="RESIN", unit=kg, tracking=Tracking.LOT)


@pytest.fixture
def serial_item(pcs):
    return ItemFactory(part_number="MOTOR", unit=pcs, tracking=Tracking.SERIAL)


@pytest.fixture
def erp():
    """A source document: an ERP message."""
    return Source(SourceType.ERP_MESSAGE, "msg-1")


@pytest.fixture
def receive(actor):
    """Receive stock through the service (source: an ERP message)."""

    def _receive(item, quantity, location, lot=None, **kwargs):
        return services.inventory_receive(
            item=item,
            quantity=D(quantity),
            location=location,
            lot=lot,
            source=Source(SourceType.ERP_MESSAGE, "receipt"),
            actor=actor,
            **kwargs,
        )

    return _receive
