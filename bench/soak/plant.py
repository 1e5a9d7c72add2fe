"""The soak plant: seeded in this process (seed), and as the load drivers see it (Plant:
orders, their jobs, the tickets queued at each resource).
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal

from .adversary import seed_adversary
from .config import PRODUCTS, RESOURCES, WORKERS, log


@dataclass
class Ticket:
    wo_id: str
    operation: int
    job_id: int
    quantity: int


@dataclass
class SoakOrder:
    wo_id: str
    product: int
    quantity: int
    state: str = "created"  # created, canceled, releasing, released, finished, closed
    jobs: dict[int, int] = field(default_factory=dict)  # operation -> job id
    started: Counter = field(default_factory=Counter)  # operation -> quantity started
    good: Counter = field(default_factory=Counter)  # operation -> good reported
    scrap: Counter = field(default_factory=Counter)
    finished_good: int = 0  # reported as finished
    broken: bool = False  # a refusal left it in an unknown state


class Plant:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: dict[str, SoakOrder] = {}
        self.queues: dict[int, deque[Ticket]] = {r: deque() for r in range(1, RESOURCES + 1)}
        self.to_release: deque[str] = deque()
        self.to_close: deque[tuple[float, str]] = deque()
        self.ready = threading.Condition(self.lock)

    def open_orders(self, product: int) -> int:
        with self.lock:
            return sum(
                1
                for o in self.orders.values()
                if o.product == product and o.state in ("created", "releasing", "released")
            )

    def push(self, resource: int, ticket: Ticket) -> None:
        with self.ready:
            self.queues[resource].append(ticket)
            self.ready.notify_all()

    def take(self, resource: int, timeout: float) -> Ticket | None:
        with self.ready:
            if not self.queues[resource]:
                self.ready.wait(timeout)
            return self.queues[resource].popleft() if self.queues[resource] else None


def resources_of(product: int) -> tuple[int, int]:
    return 2 * product - 1, 2 * product


# --- Seeding (in this process) ------------------------------------------------------------


def seed() -> dict:
    """Roles, the demo plant (users, reason codes, units, site), and the soak plant."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from execution.models import PayAgreement, Terminal, Worker
    from integration.models import DefectReasonMapping
    from inventory import services as inventory_services
    from inventory.choices import FlushingPrinciple as FP
    from inventory.choices import ItemType, LocationKind, SourceType, Tracking
    from inventory.models import Item, Location, Site, UnitOfMeasure, Warehouse
    from inventory.services import Source
    from mesproject.actors import Actor
    from orders.choices import BomLinePrinciple as BP
    from orders.choices import ConsumptionSetting, ReasonKind
    from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    migrated = time.monotonic()
    call_command("setup_roles", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    log(f"migrate {migrated - started:.0f} s, seed_demo {time.monotonic() - migrated:.0f} s")
    site = Site.objects.get(code="BRN")
    raw = Warehouse.objects.get(site=site, code="RAW")
    fg = Warehouse.objects.get(site=site, code="FG")
    pcs = UnitOfMeasure.objects.get(code="pcs")
    resources = {}
    for n in range(1, RESOURCES + 1):
        code = f"SK-{n:02d}"
        resource = Resource.objects.create(
            code=code,
            name=f"Soak cell {n}",
            site=site,
            # Every fourth cell consumes its operation-finish lines at report as finished.
            consumption_setting=ConsumptionSetting.ON_REPORT_AS_FINISHED
            if n % 4 == 0
            else ConsumptionSetting.ON_OPERATION_FEEDBACK,
            input_location=Location.objects.create(
                warehouse=raw,
                code=f"IN-SK{n:02d}",
                name=f"Input {code}",
                kind=LocationKind.PRODUCTION_INPUT,
            ),
            output_location=Location.objects.create(
                warehouse=fg,
                code=f"OUT-SK{n:02d}",
                name=f"Output {code}",
                kind=LocationKind.PRODUCTION_OUTPUT,
            ),
        )
        Terminal.objects.create(code=f"T-{code}", name=f"Terminal {code}", resource=resource)
        resources[n] = resource
    components = {
        part: Item.objects.create(
            part_number=part,
            revision="A",
            description=part,
            item_type=kind,
            unit=pcs,
            default_flushing_principle=principle,
            tracking=tracking,
        )
        for part, kind, principle, tracking in [
            ("SK-TUBE", ItemType.RAW, FP.START, Tracking.LOT),
            ("SK-PART-A", ItemType.RAW, FP.OPERATION_FINISH, Tracking.NONE),
            ("SK-PART-B", ItemType.RAW, FP.OPERATION_FINISH, Tracking.NONE),
            ("SK-BOX", ItemType.PACKAGING, FP.PRODUCTION_FINISH, Tracking.NONE),
        ]
    }
    for k in range(1, PRODUCTS + 1):
        product = Item.objects.create(
            part_number=f"SK-P{k}",
            revision="A",
            description=f"Soak product {k}",
            item_type=ItemType.FINISHED,
            unit=pcs,
            default_flushing_principle=FP.MANUAL,
            tracking=Tracking.NONE,
        )
        bom = Bom.objects.create(item=product, revision="A", approved=True)
        for number, part, per, principle, operation in [
            (10, "SK-TUBE", 2, BP.START, 10),
            (20, "SK-PART-A", 1, BP.OPERATION_FINISH, 10),
            (30, "SK-PART-B", 3, BP.OPERATION_FINISH, 20),
            (40, "SK-BOX", 1, BP.PRODUCTION_FINISH, None),
        ]:
            BomLine.objects.create(
                bom=bom,
                line_number=number,
                component=components[part],
                quantity_per=Decimal(per),
                flushing_principle=principle,
                operation_number=operation,
            )
        route = Route.objects.create(item=product, revision="A", approved=True)
        for operation, resource in zip((10, 20), resources_of(k), strict=True):
            RouteOperation.objects.create(
                route=route,
                operation_number=operation,
                name=f"Operation {operation}",
                resource=resources[resource],
                setup_time_minutes=0,
                run_time_minutes_per_unit=Decimal("1"),
            )
    source = Source(SourceType.MANUAL, "soak-opening-stock")
    for n, resource in resources.items():
        for part, item in components.items():
            inventory_services.inventory_receive(
                item=item,
                quantity=Decimal(200_000),
                location=resource.input_location,
                lot=f"{part}-L{n:02d}" if item.tracking == Tracking.LOT else None,
                source=source,
                actor=Actor(process="soak"),
                reason="soak opening stock",
            )
    agreement = PayAgreement.objects.get(code="DAY")
    for n in range(WORKERS):
        Worker.objects.create(
            badge_id=str(5001 + n),
            name=f"Soak worker {n + 1}",
            site=site,
            pay_agreement=agreement,
        )
    adversary_tokens = seed_adversary(site=site, agreement=agreement)
    for reason in ReasonCode.objects.filter(kind=ReasonKind.SCRAP):
        DefectReasonMapping.objects.get_or_create(
            defect=reason, defaults={"erp_reason_code": f"ERP-{reason.code}", "cost_center": "CC1"}
        )
    users = get_user_model().objects
    return {
        "erp": Token.objects.get_or_create(user=users.get(username="erp"))[0].key,
        "operator": Token.objects.get_or_create(user=users.get(username="operator"))[0].key,
        **adversary_tokens,
    }
