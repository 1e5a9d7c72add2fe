"""Hub and scale units, what both sides share (docs/scale_units.md): the hub-owned models
that travel to a scale unit, and the statuses of an order that runs on the floor."""

from __future__ import annotations

from execution.models import (
    AbsenceCode,
    IndirectActivity,
    Job,
    PayAgreement,
    Terminal,
    Worker,
)
from inventory.models import Item, Location, Site, UnitConversion, UnitOfMeasure, Warehouse
from orders.choices import OrderStatus
from orders.models import (
    Bom,
    BomLine,
    ProductionOrder,
    ProductionOrderMaterial,
    ReasonCode,
    Resource,
    Route,
    RouteOperation,
)

# Everything that originates on the hub and travels to a scale unit, in the order a reader
# expects (the foreign keys are deferred to the commit, so it is not needed for inserting).
HUB_OWNED = (
    UnitOfMeasure,
    UnitConversion,
    Item,
    Site,
    Warehouse,
    Location,
    Resource,
    ReasonCode,
    Bom,
    BomLine,
    Route,
    RouteOperation,
    PayAgreement,
    Worker,
    Terminal,
    AbsenceCode,
    IndirectActivity,
    ProductionOrder,
    ProductionOrderMaterial,
    Job,
)
RUNNING = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
