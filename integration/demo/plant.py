"""A small, believable bicycle plant for demos and manual testing (`manage.py seed_demo`,
which first gives the role groups their permissions)."""

import uuid
from datetime import timedelta
from decimal import Decimal as D

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from execution.choices import RegistrationKind
from execution.models import AbsenceCode, IndirectActivity, PayAgreement, Terminal, Worker
from execution.services import order_lifecycle
from execution.services.registrations import RegistrationInput, registration_accept
from execution.services.senders import terminal_issue_token
from integration.models import DefectReasonMapping
from inventory import services as inventory_services
from inventory.choices import FlushingPrinciple as FP
from inventory.choices import ItemType, LocationKind, SourceType, Tracking
from inventory.models import Item, Location, Site, UnitConversion, UnitOfMeasure, Warehouse
from inventory.services import Source
from mesproject import roles
from mesproject.actors import Actor
from orders import services as order_services
from orders.choices import BomLinePrinciple as BP
from orders.choices import ConsumptionSetting, ReasonKind, ResourceKind
from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation

DEMO_SITE = "BRN"

# part number, description, type, unit, default flushing principle, tracking
ITEMS = [
    ("BIKE-100", "City bike, 28 inch", ItemType.FINISHED, "pcs", FP.MANUAL, Tracking.SERIAL),
    ("BIKE-200", "E-bike, 28 inch (new)", ItemType.FINISHED, "pcs", FP.MANUAL, Tracking.SERIAL),
    (
        "FRAME-100",
        "Welded frame, painted",
        ItemType.SEMI_FINISHED,
        "pcs",
        FP.PRODUCTION_FINISH,
        Tracking.LOT,
    ),
    ("TUBE-ST", "Steel tube 28 mm", ItemType.RAW, "m", FP.START, Tracking.LOT),
    ("WIRE-W", "Welding wire", ItemType.RAW, "kg", FP.OPERATION_FINISH, Tracking.NONE),
    ("PAINT-R", "Powder coat, red", ItemType.RAW, "kg", FP.OPERATION_FINISH, Tracking.LOT),
    (
        "WHEEL-28",
        "Wheel 28 inch, assembled",
        ItemType.RAW,
        "pcs",
        FP.OPERATION_FINISH,
        Tracking.NONE,
    ),
    ("SADDLE-01", "Saddle, comfort", ItemType.RAW, "pcs", FP.MANUAL, Tracking.NONE),
    ("HBAR-01", "Handlebar, city", ItemType.RAW, "pcs", FP.START, Tracking.NONE),
    ("CHAIN-01", "Chain 1/2 x 3/32", ItemType.RAW, "pcs", FP.AVAILABLE_AT_LOCATION, Tracking.NONE),
    ("PEDAL-01", "Pedal set", ItemType.RAW, "pcs", FP.OPERATION_FINISH, Tracking.NONE),
    ("BOLT-M8", "Bolt M8 x 20", ItemType.RAW, "pcs", FP.OPERATION_FINISH, Tracking.NONE),
    ("MOTOR-250", "Hub motor 250 W", ItemType.RAW, "pcs", FP.MANUAL, Tracking.SERIAL),
    (
        "BOX-BIKE",
        "Shipping carton, bike",
        ItemType.PACKAGING,
        "pcs",
        FP.PRODUCTION_FINISH,
        Tracking.NONE,
    ),
    ("LABEL-01", "Serial label", ItemType.PACKAGING, "pcs", FP.PRODUCTION_FINISH, Tracking.NONE),
]

# parent: [(line, component, qty per, scrap %, principle, operation)]: every principle appears.
BOMS = {
    "FRAME-100": [
        (10, "TUBE-ST", D("2.4"), D("3"), BP.NONE, 10),  # item default: Start
        (20, "WIRE-W", D("0.15"), D("0"), BP.OPERATION_FINISH, 20),
        (30, "PAINT-R", D("0.2"), D("5"), BP.NONE, 30),  # item default: Operation finish
    ],
    "BIKE-100": [
        (10, "FRAME-100", D("1"), D("0"), BP.PRODUCTION_FINISH, None),
        (20, "WHEEL-28", D("2"), D("0"), BP.OPERATION_FINISH, 10),
        (30, "HBAR-01", D("1"), D("0"), BP.START, 10),
        (40, "CHAIN-01", D("1"), D("0"), BP.AVAILABLE_AT_LOCATION, 20),
        (50, "PEDAL-01", D("1"), D("0"), BP.NONE, 20),
        (60, "SADDLE-01", D("1"), D("0"), BP.MANUAL, 20),
        (70, "BOLT-M8", D("12"), D("2"), BP.OPERATION_FINISH, 20),
        (80, "BOX-BIKE", D("1"), D("0"), BP.PRODUCTION_FINISH, 30),
        (90, "LABEL-01", D("1"), D("0"), BP.NONE, 30),
    ],
    "BIKE-200": [
        (10, "FRAME-100", D("1"), D("0"), BP.PRODUCTION_FINISH, None),
        (20, "MOTOR-250", D("1"), D("0"), BP.MANUAL, 10),
        (30, "WHEEL-28", D("2"), D("0"), BP.OPERATION_FINISH, 10),
    ],
}

# resource code, name, kind, consumption setting, input location, output location
RESOURCES = [
    (
        "CUT-01",
        "Tube cutting saw",
        ResourceKind.MACHINE,
        ConsumptionSetting.ON_OPERATION_FEEDBACK,
        "IN-CUT",
        "OUT-CUT",
    ),
    (
        "WELD-01",
        "Welding cell 1",
        ResourceKind.WORK_CENTER,
        ConsumptionSetting.ON_OPERATION_FEEDBACK,
        "IN-WELD",
        "OUT-WELD",
    ),
    (
        "PAINT-01",
        "Powder coating line",
        ResourceKind.MACHINE,
        ConsumptionSetting.ON_OPERATION_FEEDBACK,
        "IN-PAINT",
        "OUT-PAINT",
    ),
    (
        "ASM-01",
        "Assembly line 1",
        ResourceKind.WORK_CENTER,
        ConsumptionSetting.ON_OPERATION_FEEDBACK,
        "IN-ASM",
        "OUT-ASM",
    ),
    (
        "ASM-02",
        "Final assembly",
        ResourceKind.WORK_CENTER,
        ConsumptionSetting.ON_REPORT_AS_FINISHED,
        "IN-ASM",
        "OUT-ASM",
    ),
    (
        "PACK-01",
        "Packaging robot",
        ResourceKind.PACKAGING,
        ConsumptionSetting.NEVER,
        "IN-PACK",
        "OUT-PACK",
    ),
]

ROUTES = {
    "FRAME-100": [
        (10, "Cut tubes", "CUT-01", 15, "0.8"),
        (20, "Weld frame", "WELD-01", 20, "6"),
        (30, "Powder coat", "PAINT-01", 30, "2.5"),
    ],
    "BIKE-100": [
        (10, "Pre-assembly", "ASM-01", 10, "12"),
        (20, "Final assembly", "ASM-02", 10, "18"),
        (30, "Pack and label", "PACK-01", 5, "1.5"),
    ],
    "BIKE-200": [
        (10, "Pre-assembly", "ASM-01", 10, "15"),
        (20, "Final assembly", "ASM-02", 10, "25"),
        (30, "Pack and label", "PACK-01", 5, "1.5"),
    ],
}

REASONS = [
    ("SCR-WELD", "Weld porosity", ReasonKind.SCRAP),
    ("SCR-PAINT", "Paint runs or orange peel", ReasonKind.SCRAP),
    ("SCR-DIM", "Dimension out of tolerance", ReasonKind.SCRAP),
    ("SCR-DMG", "Damaged in handling", ReasonKind.SCRAP),
    ("DT-MAINT", "Unplanned maintenance", ReasonKind.DOWNTIME),
    ("DT-MAT", "Waiting for material", ReasonKind.DOWNTIME),
    ("ADJ-COUNT", "Cycle count correction", ReasonKind.ADJUSTMENT),
]

# MES defect code -> (ERP reason code, cost center): without it every scrap message would go
# to the dead-letter queue (the outbox never guesses a reason code).
ERP_REASONS = {
    "SCR-WELD": ("QN-WELD", "CC-2200"),
    "SCR-PAINT": ("QN-PAINT", "CC-2300"),
    "SCR-DIM": ("QN-DIM", "CC-2100"),
    "SCR-DMG": ("QN-HANDL", "CC-4000"),
}

DEMO_USERS = [
    ("admin", None),
    ("planner", roles.PLANNER),
    ("supervisor", roles.SUPERVISOR),
    ("operator", roles.OPERATOR),
    ("erp", roles.ERP_INTEGRATION),
    ("it", roles.IT),
]

# order number suffix, product, quantity, where to take it: (status, good, scrap, in progress)
ORDER_PLAN = [
    ("0001", "FRAME-100", 40, ("created", 0, 0, 0)),
    ("0002", "BIKE-100", 25, ("created", 0, 0, 0)),
    ("0003", "BIKE-100", 10, ("created", 0, 0, 0)),
    ("0004", "BIKE-200", 5, ("created", 0, 0, 0)),  # its BOM is not approved: release refused
    ("0005", "FRAME-100", 60, ("released", 0, 0, 0)),
    ("0006", "BIKE-100", 30, ("released", 0, 0, 0)),
    ("0007", "FRAME-100", 20, ("released", 0, 0, 0)),
    ("0008", "BIKE-100", 12, ("released", 0, 0, 0)),
    ("0009", "FRAME-100", 50, ("in_progress", 18, 2, 10)),
    ("0010", "BIKE-100", 40, ("in_progress", 22, 1, 4)),
    ("0011", "BIKE-100", 16, ("in_progress", 0, 0, 6)),
    ("0012", "FRAME-100", 30, ("in_progress", 29, 3, 0)),
    ("0013", "BIKE-100", 20, ("completed", 20, 1, 0)),
    ("0014", "FRAME-100", 25, ("completed", 26, 0, 0)),
    ("0015", "BIKE-100", 8, ("completed", 8, 0, 0)),
    ("0016", "FRAME-100", 40, ("closed", 40, 2, 0)),
    ("0017", "BIKE-100", 15, ("closed", 15, 0, 0)),
    ("0018", "BIKE-100", 10, ("closed", 10, 1, 0)),
    ("0019", "FRAME-100", 35, ("canceled", 0, 0, 0)),
    ("0020", "BIKE-100", 12, ("canceled", 5, 1, 0)),
]


def _plant():
    site = Site.objects.create(code=DEMO_SITE, name="Brno bicycle plant")
    raw = Warehouse.objects.create(site=site, code="RAW", name="Raw materials")
    fg = Warehouse.objects.create(site=site, code="FG", name="Finished goods")
    locations = {
        "RAW-GEN": Location.objects.create(warehouse=raw, code="GEN", name="Raw bulk storage"),
        "FG-GEN": Location.objects.create(warehouse=fg, code="GEN", name="Finished goods store"),
    }
    for _, _, _, _, in_code, out_code in RESOURCES:
        for code, kind, warehouse in (
            (in_code, LocationKind.PRODUCTION_INPUT, raw),
            (out_code, LocationKind.PRODUCTION_OUTPUT, fg),
        ):
            if code not in locations:
                locations[code] = Location.objects.create(
                    warehouse=warehouse, code=code, name=code.replace("-", " ").title(), kind=kind
                )
    return site, locations


@transaction.atomic
def seed_demo_plant(*, stdout=None) -> dict:
    """Create the demo plant once; returns what it made. Refuses to run twice."""
    if Site.objects.filter(code=DEMO_SITE).exists():
        return {"created": False}
    # The role groups by name; what each may do is mesproject/workplace/roles.py's.
    groups = {role: Group.objects.get_or_create(name=role)[0] for _, role in DEMO_USERS if role}
    units = {
        code: UnitOfMeasure.objects.create(code=code, name=name, decimal_places=places)
        for code, name, places in [
            ("pcs", "Pieces", 0),
            ("kg", "Kilogram", 3),
            ("m", "Meter", 3),
            ("box", "Box of 50", 0),
        ]
    }
    site, locations = _plant()
    items = {
        pn: Item.objects.create(
            part_number=pn,
            revision="A",
            description=desc,
            item_type=kind,
            unit=units[unit],
            default_flushing_principle=principle,
            tracking=tracking,
        )
        for pn, desc, kind, unit, principle, tracking in ITEMS
    }
    # Bolts are bought by the box of 50 and counted in pieces.
    UnitConversion.objects.create(
        from_unit=units["box"], to_unit=units["pcs"], factor=D("50"), item=items["BOLT-M8"]
    )
    resources = {
        code: Resource.objects.create(
            code=code,
            name=name,
            site=site,
            kind=kind,
            consumption_setting=setting,
            input_location=locations[in_code],
            output_location=locations[out_code],
        )
        for code, name, kind, setting, in_code, out_code in RESOURCES
    }
    for parent, lines in BOMS.items():
        bom = Bom.objects.create(
            item=items[parent],
            revision="A",
            approved=parent != "BIKE-200",
            description=f"Standard BOM {parent}",
        )
        for number, component, qty, scrap, principle, operation in lines:
            BomLine.objects.create(
                bom=bom,
                line_number=number,
                component=items[component],
                quantity_per=qty,
                scrap_allowance_pct=scrap,
                flushing_principle=principle,
                operation_number=operation,
            )
    for parent, operations in ROUTES.items():
        route = Route.objects.create(
            item=items[parent], revision="A", approved=True, name=f"Standard route {parent}"
        )
        for number, name, resource, setup, run in operations:
            RouteOperation.objects.create(
                route=route,
                operation_number=number,
                name=name,
                resource=resources[resource],
                setup_time_minutes=setup,
                run_time_minutes_per_unit=D(run),
            )
    for code, description, kind in REASONS:
        reason = ReasonCode.objects.create(code=code, description=description, kind=kind)
        if code in ERP_REASONS:
            erp_reason_code, cost_center = ERP_REASONS[code]
            DefectReasonMapping.objects.create(
                defect=reason, erp_reason_code=erp_reason_code, cost_center=cost_center
            )
    _floor(site, resources)
    _stock(items, resources)
    users = _users(groups)
    orders = _orders(site, items, users["planner"])
    _shift_today(orders)
    return {"created": True, "items": len(items), "orders": len(orders), "users": users}


def _stock(items, resources):
    """Material waiting at every resource's input location, so the floor's registrations
    consume real stock (serial-tracked motors aside: the e-bike is not released)."""
    source = Source(SourceType.MANUAL, "demo-opening-stock")
    actor = Actor(process="demo")
    for resource in resources.values():
        for item in items.values():
            if item.item_type == ItemType.FINISHED or item.tracking == Tracking.SERIAL:
                continue
            inventory_services.inventory_receive(
                item=item,
                quantity=D(500) if item.unit.code == "pcs" else D(200),
                location=resource.input_location,
                lot=f"{item.part_number}-L1" if item.tracking == Tracking.LOT else None,
                source=source,
                actor=actor,
                reason="opening stock",
            )


def _shift_today(orders):
    """This morning's shift: three workers clocked in, two of them on jobs. The rows are
    stored new; the worker that `make run` starts processes them."""
    now = timezone.now()
    by_number = {order.number.rsplit("-", 1)[1]: order for order in orders}
    workers = list(Worker.objects.order_by("badge_id")[:3])
    for offset, worker in enumerate(workers):
        registration_accept(
            data=RegistrationInput(
                uuid=uuid.uuid4(),
                kind=RegistrationKind.CLOCK_IN,
                occurred_at=now - timedelta(minutes=120 - offset),
                worker=worker,
            ),
            source="demo",
        )
    for worker, number in zip(workers[:2], ("0005", "0006"), strict=True):
        job = by_number[number].jobs.filter(kind="process").order_by("operation_number").first()
        registration_accept(
            data=RegistrationInput(
                uuid=uuid.uuid4(),
                kind=RegistrationKind.START_JOB,
                occurred_at=now - timedelta(minutes=90),
                worker=worker,
                job=job,
                quantity=D(10),
            ),
            source="demo",
        )


WORKERS = [
    ("1001", "Jana Novakova"),
    ("1002", "Petr Svoboda"),
    ("1003", "Lucie Dvorakova"),
    ("1004", "Tomas Cerny"),
    ("1005", "Eva Prochazkova"),
    ("1006", "Martin Kucera"),
    ("1007", "Katerina Vesela"),
    ("1008", "Jakub Horak"),
]


def _floor(site, resources):
    """Pay agreements, workers, one terminal per resource, absence and indirect codes."""
    day = PayAgreement.objects.create(code="DAY", name="Day shift, 8 h", paid_breaks=False)
    for badge, name in WORKERS:
        Worker.objects.create(
            badge_id=badge,
            name=name,
            site=site,
            pay_agreement=day,
            # A demo worker's PIN is their badge number.
            pin_hash=make_password(badge),
        )
    for code, resource in resources.items():
        terminal = Terminal.objects.create(
            code=f"T-{code}",
            name=f"Terminal {resource.name}",
            resource=resource,
            # The packaging robot reports as finished without consuming (source 002).
            report_as_finished_consumes=code != "PACK-01",
        )
        # Each device its own credential (its key in the admin's Tokens, or issue a new one).
        terminal_issue_token(terminal=terminal)
    for code, description, paid in [
        ("SICK", "Sick leave", True),
        ("VAC", "Vacation", True),
        ("DOC", "Doctor visit", True),
        ("UNPD", "Unpaid leave", False),
    ]:
        AbsenceCode.objects.create(code=code, description=description, paid=paid)
    for code, description in [
        ("CLEAN", "Cleaning"),
        ("MEET", "Shift meeting"),
        ("TRAIN", "Training"),
        ("MAINT", "Maintenance help"),
    ]:
        IndirectActivity.objects.create(code=code, description=description)


def _users(groups):
    User = get_user_model()
    users = {}
    for username, role in DEMO_USERS:
        user = User(username=username, email=f"{username}@demo.mes.local")
        user.is_superuser = role is None
        user.is_staff = role is None or role in roles.STAFF_ROLES
        user.set_password(settings.MES_DEMO_PASSWORD)
        user.save()
        if role:
            user.groups.add(groups[role])
        users[username] = user
    return users


def _orders(site, items, planner):
    actor = Actor(user=planner)
    floor = Actor(process="demo-shop-floor")
    start = timezone.now().replace(hour=6, minute=0, second=0, microsecond=0)
    orders = []
    for index, (suffix, product, quantity, (status, good, scrap, wip)) in enumerate(ORDER_PLAN):
        order = order_services.production_order_create(
            number=f"PO-{start:%Y}-{suffix}",
            item=items[product],
            quantity=D(quantity),
            site=site,
            scheduled_start=start + timedelta(hours=4 * (index - 10)),
            priority=1 + index % 9,
            over_delivery_tolerance_pct=D("5") if product == "FRAME-100" else D("0"),
            actor=actor,
        )
        if status != "created":
            order = order_lifecycle.order_release(order=order, actor=actor)
        if good or scrap or wip:
            order = order_lifecycle.order_record_quantities(
                order=order, in_progress=D(wip), good=D(good), scrap=D(scrap), actor=floor
            )
        if status == "closed":
            order = order_lifecycle.order_close(order=order, actor=actor)
        if status == "canceled":
            order = order_lifecycle.order_cancel(
                order=order, actor=actor, reason="Customer order withdrawn"
            )
        assert order.status == status, (order.number, order.status, status)
        orders.append(order)
    return orders
