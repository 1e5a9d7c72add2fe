"""A small plant for execution tests, built the way a planner would set it up: a site, stock
at each resource's input location, a product with a BOM and a route, workers clocked in at
terminals, and a client that posts registrations to the real endpoint.

Orders are created and released through the services; registrations go through
POST /api/v1/registrations/ and the processor, as on the floor.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from execution.models import AbsenceCode, IndirectActivity, PayAgreement, Terminal, Worker
from execution.services import order_lifecycle
from execution.services.processing import registrations_process
from inventory import services as inventory_services
from inventory.choices import LocationKind, SourceType, Tracking
from inventory.models import Item, Location, Site, UnitOfMeasure, Warehouse
from inventory.services import Source
from mesproject.actors import Actor
from orders import services as order_services
from orders.choices import ConsumptionSetting, ReasonKind
from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation
from tests.api import token_client

D = Decimal
_seq = itertools.count(1)
# A fixed morning in the past, so every registration's time is known and never "future".
DAY = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.get_fixed_timezone(60))


@dataclass
class Floor:
    site: Site
    warehouse: Warehouse
    store: Location
    output: Location
    resources: list[Resource]
    terminals: list[Terminal]
    product: Item
    bom: Bom
    route: Route
    components: dict[str, Item]
    workers: list[Worker]
    scrap_reason: ReasonCode
    client: APIClient
    user: object
    pcs: UnitOfMeasure
    clock: datetime = DAY
    extra: dict = field(default_factory=dict)

    # --- time -----------------------------------------------------------------------------

    def at(self, minutes: float) -> datetime:
        """DAY + minutes: tests speak in minutes after 06:00."""
        return DAY + timedelta(minutes=minutes)

    # --- orders ---------------------------------------------------------------------------

    def order(self, quantity=10, *, release=True, product: Item | None = None, **kwargs):
        order = order_services.production_order_create(
            number=f"PO-X{next(_seq):05d}",
            item=product or self.product,
            quantity=D(quantity),
            site=self.site,
            **kwargs,
        )
        if release:
            order = order_lifecycle.order_release(order=order)
        return order

    def job(self, order, operation: int, kind: str = "process"):
        return order.jobs.get(operation_number=operation, kind=kind)

    # --- registrations --------------------------------------------------------------------

    def post(self, kind: str, *, at: float | datetime, expect: int | None = 202, **fields):
        occurred = at if isinstance(at, datetime) else self.at(at)
        body = {
            "registration_uuid": str(fields.pop("registration_uuid", uuid.uuid4())),
            "kind": kind,
            "occurred_at": occurred.isoformat(),
        }
        for key, value in fields.items():
            if isinstance(value, Worker):
                value = value.badge_id
            elif hasattr(value, "pk") and key in ("job",):
                value = value.pk
            elif key == "jobs":
                value = [getattr(v, "pk", v) for v in value]
            elif isinstance(value, Decimal):
                value = str(value)
            elif hasattr(value, "number") and key == "order":
                value = value.number
            elif hasattr(value, "code") and not isinstance(value, str):
                value = value.code
            body[key] = value
        response = self.client.post("/api/v1/registrations/", body, format="json")
        if expect is not None:
            assert response.status_code == expect, response.json()
        return response

    def clock_in(self, worker: Worker, at: float) -> None:
        self.post("clock_in", at=at, badge_id=worker)

    def write_off(self, part: str, quantity, location: Location | None = None):
        """Stock found damaged and written off: what a registration accepted against that
        stock then fails on in processing (the door cannot know it was coming)."""
        return inventory_services.inventory_scrap(
            item=self.components[part],
            quantity=D(quantity),
            location=location or self.resources[0].input_location,
            reason="damaged",
            source=Source(SourceType.MANUAL, f"test-{next(_seq)}"),
            actor=Actor(process="test"),
        )

    def run_route(self, order, quantity, worker: Worker, *, at: float) -> float:
        """The worker (clocked in) starts and completes `quantity` at each operation in turn,
        one minute apart, so the last operation has output it; returns the next minute."""
        for job in order.jobs.filter(kind="process").order_by("operation_number"):
            self.post("start_job", at=at, badge_id=worker, job=job, quantity=str(quantity))
            self.post(
                "report_progress",
                at=at + 1,
                badge_id=worker,
                job=job,
                quantity_good=str(quantity),
                stops_job=True,
            )
            at += 2
        return at

    def process(self):
        return registrations_process()

    def stock(self, part: str, quantity, location: Location | None = None, lot: str = ""):
        return inventory_services.inventory_receive(
            item=self.components[part],
            quantity=D(quantity),
            location=location or self.resources[0].input_location,
            lot=lot or None,
            source=Source(SourceType.MANUAL, f"test-{next(_seq)}"),
            actor=Actor(process="test"),
        )


def make_floor(
    *,
    lines: list[tuple[str, str, int | None, str]] | None = None,
    settings: list[str] | None = None,
    product_tracking: str = Tracking.NONE,
    stock: Decimal | int = 1000,
    workers: int = 3,
    setup_minutes: Decimal | int = 0,
) -> Floor:
    """lines: (part, principle, operation number or None, quantity per) of the BOM.
    settings: each of the 3 resources' consumption setting."""
    n = next(_seq)
    pcs, _ = UnitOfMeasure.objects.get_or_create(code="pcs", defaults={"name": "pieces"})
    site = Site.objects.create(code=f"F{n}", name=f"Floor {n}")
    warehouse = Warehouse.objects.create(site=site, code="MAIN", name="Main")
    store = Location.objects.create(warehouse=warehouse, code="STORE", name="Store")
    output = Location.objects.create(
        warehouse=warehouse, code="FG", name="Finished goods", kind=LocationKind.PRODUCTION_OUTPUT
    )
    settings = settings or [ConsumptionSetting.ON_OPERATION_FEEDBACK] * 3
    resources = []
    for index, setting in enumerate(settings, start=1):
        resources.append(
            Resource.objects.create(
                code=f"F{n}-R{index}",
                name=f"Machine {index}",
                site=site,
                consumption_setting=setting,
                input_location=Location.objects.create(
                    warehouse=warehouse,
                    code=f"IN{index}",
                    name=f"Input {index}",
                    kind=LocationKind.PRODUCTION_INPUT,
                ),
                output_location=output,
            )
        )
    terminals = [
        Terminal.objects.create(code=f"T-{r.code}", name=f"Terminal {r.code}", resource=r)
        for r in resources
    ]
    product = Item.objects.create(
        part_number=f"F{n}-BIKE", description="Bike", unit=pcs, tracking=product_tracking
    )
    bom = Bom.objects.create(item=product, revision=product.revision, approved=True)
    lines = lines or [
        ("FRAME", "start", 10, "1"),
        ("WHEEL", "operation_finish", 20, "2"),
        ("GRIP", "production_finish", None, "2"),
        ("BELL", "manual", 30, "1"),
    ]
    components = {}
    for number, (part, principle, operation, per) in enumerate(lines, start=1):
        component = Item.objects.create(part_number=f"F{n}-{part}", description=part, unit=pcs)
        components[part] = component
        BomLine.objects.create(
            bom=bom,
            line_number=number * 10,
            component=component,
            quantity_per=D(per),
            flushing_principle=principle,
            operation_number=operation,
        )
    route = Route.objects.create(item=product, revision=product.revision, approved=True)
    for index, resource in enumerate(resources, start=1):
        RouteOperation.objects.create(
            route=route,
            operation_number=index * 10,
            name=f"Operation {index * 10}",
            resource=resource,
            setup_time_minutes=D(setup_minutes),
            run_time_minutes_per_unit=D("1.5"),
        )
    agreement, _ = PayAgreement.objects.get_or_create(
        code="STD", defaults={"name": "Standard", "overtime_after_minutes": 480}
    )
    people = [
        Worker.objects.create(
            badge_id=f"F{n}-B{i}", name=f"Worker {i}", site=site, pay_agreement=agreement
        )
        for i in range(1, workers + 1)
    ]
    scrap_reason = ReasonCode.objects.create(
        code=f"F{n}-SCRATCH", description="Scratched", kind=ReasonKind.SCRAP
    )
    AbsenceCode.objects.get_or_create(code="DOC", defaults={"description": "Doctor"})
    IndirectActivity.objects.get_or_create(code="CLEAN", defaults={"description": "Cleaning"})
    user = get_user_model().objects.create_superuser(f"floor{n}", f"floor{n}@example.com", "x")
    client = token_client(user)
    floor = Floor(
        site=site,
        warehouse=warehouse,
        store=store,
        output=output,
        resources=resources,
        terminals=terminals,
        product=product,
        bom=bom,
        route=route,
        components=components,
        workers=people,
        scrap_reason=scrap_reason,
        client=client,
        user=user,
        pcs=pcs,
    )
    if stock:
        for resource in resources:
            for part in components:
                floor.stock(part, stock, resource.input_location)
    return floor
