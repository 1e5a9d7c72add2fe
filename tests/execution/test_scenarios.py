"""The three scenarios of "The case of a missing flushing principle" (domain 002), end to end.

Each test builds a plant the way a planner would (resources with their consumption setting and
input / output locations, terminals, products with BOM lines and routes, stock at the input
locations), posts the floor's registrations to POST /api/v1/registrations/, runs the processor
and checks that every BOM line consumed exactly its BOM quantity
((good + scrap) x quantity per x (1 + scrap allowance), rounded half up to the component
unit): never double, never short. Consumption is checked in four places that must agree: the
picking list journal (PickingListLine) per material line, the inventory ledger (issue / return
rows of the order), on-hand at the input locations, and the lines' consumption state
(MaterialLineState).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum

from execution.models import (
    MaterialLineState,
    PayAgreement,
    PickingListLine,
    RawRegistration,
    Terminal,
    Worker,
)
from execution.services import order_lifecycle
from execution.services.processing import registrations_process
from inventory import services as inventory_services
from inventory.choices import FlushingPrinciple, LocationKind, SourceType, TransactionKind
from inventory.models import (
    InventoryTransaction,
    Item,
    Location,
    OnHand,
    Site,
    UnitOfMeasure,
    Warehouse,
)
from inventory.services import Source
from mesproject.actors import Actor
from orders import services as order_services
from orders.choices import ConsumptionSetting, OrderStatus, ReasonKind
from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation
from tests.api import token_client
from tests.execution.floor import DAY

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D(0)
CS = ConsumptionSetting
ON_FEEDBACK = CS.ON_OPERATION_FEEDBACK
ON_RAF = CS.ON_REPORT_AS_FINISHED
NEVER = CS.NEVER
# PickingListLine.event values
START = "start"
FEEDBACK = "operation_feedback"
RAF = "report_as_finished"
MANUAL = "manual"
PUT = "put_at_input_location"

_seq = itertools.count(1)


# --- The plant builder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One BOM line as a planner enters it."""

    part: str
    principle: str  # manual, start, operation_finish, production_finish, available_at..., none
    operation: int | None
    per: str
    allowance: str = "0"
    unit: str = "pcs"  # pcs: 0 decimals; kg: 3 decimals
    # The component item's default principle (what "none" falls back to).
    default: str = FlushingPrinciple.MANUAL


class Plant:
    """A site with resources, terminals, products, workers and a client on the real endpoint.

    Everything is created through models and services the way master data arrives; orders are
    created and released through the order services; registrations go through the API.
    """

    def __init__(self, *, workers: int = 3) -> None:
        self.n = n = next(_seq)
        self.prefix = f"S{n}"
        self.units = {
            "pcs": UnitOfMeasure.objects.get_or_create(
                code="pcs", defaults={"name": "pieces", "decimal_places": 0}
            )[0],
            "kg": UnitOfMeasure.objects.get_or_create(
                code="kg", defaults={"name": "kilogram", "decimal_places": 3}
            )[0],
        }
        assert self.units["pcs"].decimal_places == 0
        assert self.units["kg"].decimal_places == 3
        self.site = Site.objects.create(code=self.prefix, name=f"Scenario plant {n}")
        self.warehouse = Warehouse.objects.create(site=self.site, code="MAIN", name="Main")
        self.fg = self.location("FG", LocationKind.PRODUCTION_OUTPUT)
        self.items: dict[str, Item] = {}
        agreement, _ = PayAgreement.objects.get_or_create(
            code="STD", defaults={"name": "Standard", "overtime_after_minutes": 480}
        )
        self.workers = [
            Worker.objects.create(
                badge_id=f"{self.prefix}-B{i}",
                name=f"Worker {i}",
                site=self.site,
                pay_agreement=agreement,
            )
            for i in range(1, workers + 1)
        ]
        self.scrap_reason = ReasonCode.objects.create(
            code=f"{self.prefix}-SCRATCH", description="Scratched", kind=ReasonKind.SCRAP
        )
        user = get_user_model().objects.create_superuser(
            f"scenario{n}", f"scenario{n}@example.com", "x"
        )
        self.client = token_client(user)

    # --- master data ----------------------------------------------------------------------

    def location(self, code: str, kind: str = LocationKind.PRODUCTION_INPUT) -> Location:
        return Location.objects.create(warehouse=self.warehouse, code=code, name=code, kind=kind)

    def resource(
        self,
        name: str,
        setting: str,
        *,
        input_location: Location | None = None,
        output_location: Location | None = None,
    ) -> Resource:
        return Resource.objects.create(
            code=f"{self.prefix}-{name}",
            name=name,
            site=self.site,
            consumption_setting=setting,
            input_location=input_location or self.location(f"IN-{name}"),
            output_location=output_location or self.fg,
        )

    def terminal(self, name: str, resource: Resource, *, consumes: bool = True) -> Terminal:
        return Terminal.objects.create(
            code=f"{self.prefix}-{name}",
            name=name,
            resource=resource,
            report_as_finished_consumes=consumes,
        )

    def item(self, name: str, unit: str = "pcs", default: str = FlushingPrinciple.MANUAL) -> Item:
        if name not in self.items:
            self.items[name] = Item.objects.create(
                part_number=f"{self.prefix}-{name}",
                description=name,
                unit=self.units[unit],
                default_flushing_principle=default,
            )
        return self.items[name]

    def product(
        self,
        name: str,
        lines: list[Line],
        route: list[tuple[int, Resource]],
        *,
        unit: str = "pcs",
    ) -> Item:
        """A product with an approved BOM (line numbers 10, 20, ...) and route."""
        product = self.item(name, unit)
        bom = Bom.objects.create(item=product, revision=product.revision, approved=True)
        for number, line in enumerate(lines, start=1):
            BomLine.objects.create(
                bom=bom,
                line_number=number * 10,
                component=self.item(line.part, line.unit, line.default),
                quantity_per=D(line.per),
                scrap_allowance_pct=D(line.allowance),
                flushing_principle=line.principle,
                operation_number=line.operation,
            )
        plan = Route.objects.create(item=product, revision=product.revision, approved=True)
        for operation, resource in route:
            RouteOperation.objects.create(
                route=plan,
                operation_number=operation,
                name=f"Operation {operation}",
                resource=resource,
                setup_time_minutes=ZERO,
                run_time_minutes_per_unit=D("1.5"),
            )
        return product

    def order(self, product: Item, quantity, *, tolerance=0) -> object:
        """tolerance: the over-delivery tolerance in %, which the first operation may start
        and the order may complete beyond its quantity."""
        order = order_services.production_order_create(
            number=f"{self.prefix}-PO{next(_seq):04d}",
            item=product,
            quantity=D(quantity),
            site=self.site,
            over_delivery_tolerance_pct=D(tolerance),
        )
        return order_lifecycle.order_release(order=order)

    def stock(self, part: str, quantity, location: Location) -> None:
        inventory_services.inventory_receive(
            item=self.items[part],
            quantity=D(quantity),
            location=location,
            source=Source(SourceType.MANUAL, f"scenario-{next(_seq)}"),
            actor=Actor(process="test"),
        )

    @staticmethod
    def job(order, operation: int):
        return order.jobs.get(operation_number=operation, kind="process")

    # --- the floor ------------------------------------------------------------------------

    @staticmethod
    def at(minutes: float) -> datetime:
        return DAY + timedelta(minutes=minutes)

    def post(self, kind: str, *, at: float, expect: int | None = 202, **fields):
        body = {
            "registration_uuid": str(fields.pop("registration_uuid", uuid.uuid4())),
            "kind": kind,
            "occurred_at": self.at(at).isoformat(),
        }
        for key, value in fields.items():
            if isinstance(value, Worker):
                value = value.badge_id
            elif isinstance(value, Location):
                value = f"{value.warehouse.code}/{value.code}"
            elif key == "job":
                value = value.pk
            elif key == "order":
                value = value.number
            elif isinstance(value, Terminal | Resource | ReasonCode):
                value = value.code
            elif isinstance(value, Decimal | int) and not isinstance(value, bool):
                value = str(value)
            body[key] = value
        response = self.client.post("/api/v1/registrations/", body, format="json")
        if expect is not None:
            assert response.status_code == expect, response.json()
        return response

    def clock_in(self, worker: Worker, at: float) -> None:
        self.post("clock_in", at=at, badge_id=worker)

    def process(self) -> None:
        registrations_process()
        failed = list(RawRegistration.objects.filter(status="failed").values_list("kind", "error"))
        assert failed == [], failed
        assert not RawRegistration.objects.filter(status="new").exists()

    # --- reading back ---------------------------------------------------------------------

    def picked(self, order) -> dict[str, Decimal]:
        """Picking list journal: the net quantity per material line (every line listed)."""
        totals = dict(
            PickingListLine.objects.filter(order=order)
            .values_list("material__component__description")
            .annotate(total=Sum("quantity"))
        )
        return {
            m.component.description: totals.get(m.component.description, ZERO)
            for m in order.materials.select_related("component")
        }

    def picked_by_event(self, order) -> dict[tuple[str, str], Decimal]:
        rows = (
            PickingListLine.objects.filter(order=order)
            .values_list("material__component__description", "event")
            .annotate(total=Sum("quantity"))
        )
        return {(part, event): total for part, event, total in rows}

    def ledger(self, order) -> dict[str, Decimal]:
        """Inventory ledger: net quantity issued to the order per item (issues - returns)."""
        totals = dict(
            InventoryTransaction.objects.filter(
                order_ref=order.number,
                kind__in=(TransactionKind.ISSUE, TransactionKind.RETURN),
            )
            .values_list("item__description")
            .annotate(total=Sum("quantity"))
        )
        return {
            m.component.description: -totals.get(m.component.description, ZERO)
            for m in order.materials.select_related("component")
        }

    def states(self, order) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """(covered_output, consumed automatically, consumed manually) per material line."""
        result = {}
        for m in order.materials.select_related("component"):
            state = MaterialLineState.objects.filter(material=m).first()
            result[m.component.description] = (
                (state.covered_output, state.consumed, state.manual_consumed)
                if state
                else (ZERO, ZERO, ZERO)
            )
        return result

    def on_hand(self, part: str, location: Location) -> Decimal:
        return (
            OnHand.objects.filter(item=self.items[part], location=location).aggregate(
                total=Sum("quantity")
            )["total"]
            or ZERO
        )

    def assert_consumed(self, order, expected: dict[str, Decimal]) -> None:
        """The journal and the ledger both hold exactly the BOM quantity of every line."""
        expected = {part: D(quantity) for part, quantity in expected.items()}
        assert self.picked(order) == expected
        assert self.ledger(order) == expected


def d(value) -> Decimal:
    return D(str(value))


def states(**lines) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Expected MaterialLineState per part: (covered_output, consumed, manual_consumed)."""
    return {part: tuple(d(x) for x in values) for part, values in lines.items()}


def spec(kind: str, at: float, **fields) -> dict:
    """One registration as a device will post it (with its own UUID, so it can be replayed)."""
    return dict(kind=kind, at=at, registration_uuid=uuid.uuid4(), **fields)


def job_terminal(plant, order, op, worker, terminal, *, start_at, chunks, started=None):
    """A job terminal's registrations: the start, then progress (good, scrap with a reason);
    the last report completes the job."""
    job = plant.job(order, op)
    start = spec("start_job", start_at, badge_id=worker, terminal=terminal, job=job)
    if started is not None:
        start["quantity"] = started
    posts = [start]
    for index, (at, good, scrap) in enumerate(chunks):
        report = spec(
            "report_progress",
            at,
            badge_id=worker,
            terminal=terminal,
            job=job,
            quantity_good=good,
            quantity_scrap=scrap,
        )
        if scrap:
            report["reason_code"] = plant.scrap_reason
        if index == len(chunks) - 1:
            report["completes_job"] = True
        posts.append(report)
    return posts


def job_runs(plant, order, op, worker, terminal, runs):
    """A job terminal's registrations when the work comes in batches: each run is a start
    of the batch that has arrived from the operation before, then its progress reports; the
    last report of a run stops the job, the last of all completes it.
    runs: [(start_at, started, [(at, good, scrap), ...]), ...]"""
    posts = []
    for number, (start_at, started, chunks) in enumerate(runs, start=1):
        run = job_terminal(
            plant, order, op, worker, terminal, start_at=start_at, chunks=chunks, started=started
        )
        if number < len(runs):
            run[-1]["stops_job"] = run[-1].pop("completes_job")
        posts += run
    return posts


def finished(plant, order, at, good, scrap=0, **device) -> dict:
    report = spec("report_as_finished", at, order=order, quantity_good=good, **device)
    if scrap:
        report.update(quantity_scrap=scrap, reason_code=plant.scrap_reason)
    return report


def consume(order, at, line: int, quantity, **fields) -> dict:
    return spec(
        "consume_material", at, order=order, material_line=line, quantity=D(quantity), **fields
    )


def play(plant, plan, *, replay: bool = False) -> None:
    """Post the plan's batches in the order given (not the order of occurrence: terminals
    that were offline post their backlog late); "process" runs the processor in between."""
    for step in plan:
        if step == "process":
            plant.process()
            continue
        for post in step:
            plant.post(**post)
            if replay:
                assert plant.post(**post)["Idempotent-Replayed"] == "true"


# --- Scenario 1: job terminals at every operation, a scanner at the last --------------------

SCENARIO_1_BOM = [
    Line("SHEET", "start", 10, "1"),  # cut at the job start of op 10
    Line("STEEL", "operation_finish", None, "2.5", unit="kg"),  # no operation: the first (10)
    Line("PAINT", "operation_finish", 20, "0.15", allowance="10", unit="kg"),
    Line("OIL", "none", 20, "0.05", unit="kg", default=FlushingPrinciple.OPERATION_FINISH),
    Line("SCREW", "operation_finish", 30, "4", allowance="2"),
    Line("LABEL", "production_finish", None, "1"),  # the whole order, never op 10
    Line("BOX", "production_finish", 30, "0.1"),  # 10 bikes per box
    Line("GREASE", "manual", 30, "0.01", unit="kg"),  # line 80: only a supervisor consumes it
]
# Stock, each at the input location of the resource whose operation consumes it. A line taken
# from any other location fails its registration (no stock there), so these also prove where
# the processor takes each line from.
SCENARIO_1_STOCK = {
    10: {"SHEET": 500, "STEEL": 1000},
    20: {"PAINT": 100, "OIL": 50},
    30: {"SCREW": 1000, "LABEL": 500, "BOX": 100, "GREASE": 10},
}


def scenario_1_plant(last_setting: str = ON_FEEDBACK):
    plant = Plant()
    settings = {10: ON_FEEDBACK, 20: ON_FEEDBACK, 30: last_setting}
    resources = {op: plant.resource(f"R{op}", setting) for op, setting in settings.items()}
    terminals = {op: plant.terminal(f"T{op}", r) for op, r in resources.items()}
    # The mobile scanner at the end of the line, configured not to consume (002: "there must be
    # an option to turn off material consumption on the mobile scanner").
    scanner = plant.terminal("SCAN", resources[30], consumes=False)
    bike = plant.product("BIKE", SCENARIO_1_BOM, [(op, r) for op, r in resources.items()])
    for op, parts in SCENARIO_1_STOCK.items():
        for part, quantity in parts.items():
            plant.stock(part, quantity, resources[op].input_location)
    return plant, resources, terminals, scanner, bike


def assert_on_hand_left(plant, resources, consumed: dict[str, Decimal]) -> None:
    """On-hand at the input locations is the stock received minus exactly what was consumed."""
    for op, parts in SCENARIO_1_STOCK.items():
        for part, quantity in parts.items():
            assert plant.on_hand(part, resources[op].input_location) == D(quantity) - d(
                consumed[part]
            ), part


# 100 bikes (4 % over-delivery tolerance, so op 10 may start 104): op 10 puts through 104
# (100 good, 4 scrap), op 20 100 (98 + 2), op 30 98 (97 + 1); 97 good bikes reach the scanner.
S1_TOLERANCE = 4
S1_EXPECTED = {
    "SHEET": d(104),  # started at op 10
    "STEEL": d("260.000"),  # 104 x 2.5
    "PAINT": d("16.500"),  # 100 x 0.15 x 1.10
    "OIL": d("5.000"),  # none -> item default operation finish at 20: 100 x 0.05
    "SCREW": d(400),  # 98 x 4 x 1.02 = 399.84 -> 400
    "LABEL": d(97),  # 97 good bikes x 1
    "BOX": d(10),  # 97 x 0.1 = 9.7 -> 10
    "GREASE": d("0.980"),  # 98 x 0.01, reported by the supervisor
}


def scenario_1_terminals(plant, order, terminals):
    """The work flows down the route in two batches: op 10 outputs 50 good at 10 and 50 at 25;
    ops 20 and 30 start each batch once the operation before has output it."""
    w1, w2, w3 = plant.workers
    t10 = job_terminal(
        plant,
        order,
        10,
        w1,
        terminals[10],
        start_at=1,
        started=104,
        chunks=[(10, 50, 2), (25, 50, 2)],
    )
    t20 = job_runs(
        plant, order, 20, w2, terminals[20], [(11, 50, [(20, 49, 1)]), (26, 50, [(35, 49, 1)])]
    )
    t30 = job_runs(
        plant, order, 30, w3, terminals[30], [(21, 49, [(30, 49, 0)]), (36, 49, [(40, 48, 1)])]
    )
    return t10, t20, t30


def clock_ins(plant) -> list[dict]:
    return [spec("clock_in", 0, badge_id=w) for w in plant.workers]


@pytest.mark.parametrize("scanner_kind", ["no_device", "terminal_without_consumption"])
def test_scenario_1_job_terminals_on_every_operation_plus_a_scanner(scanner_kind):
    """Every operation consumes its own lines at its job terminal (good and scrap), the start
    line at the start; the scanner's report as finished adds only the production finish lines
    (no device) or nothing at all (a scanner terminal set not to consume, the supervisor then
    reports the packaging). Reports arrive in mixed order: op 10's terminal goes offline after
    its first report; the first batch through ops 20 and 30 and the scanner's first report are
    processed first, op 10's backlog (its last report, made before them) afterwards, so the
    scanner's report meets op 10's lines covered for only half of what op 10 started and must
    still leave the rest to op 10's feedback. The second batch follows the backlog (ops 20
    and 30 can only start what op 10 is known to have output)."""
    plant, resources, terminals, scanner, bike = scenario_1_plant()
    order = plant.order(bike, 100, tolerance=S1_TOLERANCE)
    t10, t20, t30 = scenario_1_terminals(plant, order, terminals)
    device = {} if scanner_kind == "no_device" else {"terminal": scanner}
    scans = [finished(plant, order, 45, 47, **device), finished(plant, order, 50, 50, **device)]
    supervisor = [consume(order, 55, 80, "0.980")]
    if scanner_kind == "terminal_without_consumption":
        supervisor += [consume(order, 56, 60, 97), consume(order, 57, 70, 10)]
    play(
        plant,
        [
            clock_ins(plant),
            t10[:2] + t20[:2] + t30[:2],  # the first batch, each run stopped
            [scans[0]],
            "process",  # the scanner's first report is processed before op 10's last report
            t10[2:],  # op 10's offline backlog: it happened before the scanner's report
            "process",
            t20[2:],
            t30[2:],
            [scans[1]],
            supervisor,
            "process",
        ],
    )

    plant.assert_consumed(order, S1_EXPECTED)
    assert_on_hand_left(plant, resources, S1_EXPECTED)
    assert plant.on_hand("BIKE", plant.fg) == d(97)
    scanned = PickingListLine.objects.filter(
        registration__uuid__in=[s["registration_uuid"] for s in scans]
    )
    by_event = {
        ("SHEET", START): d(104),
        ("STEEL", FEEDBACK): d(260),
        ("PAINT", FEEDBACK): d("16.5"),
        ("OIL", FEEDBACK): d(5),
        ("SCREW", FEEDBACK): d(400),
        ("GREASE", MANUAL): d("0.98"),
    }
    if scanner_kind == "no_device":
        assert sorted(scanned.values_list("component__description", "quantity")) == [
            ("BOX", d(5)),  # 47 x 0.1 = 4.7 -> 5
            ("BOX", d(5)),  # 97 x 0.1 = 9.7 -> 10, less the 5 already consumed
            ("LABEL", d(47)),
            ("LABEL", d(50)),
        ]
        assert plant.picked_by_event(order) == by_event | {
            ("LABEL", RAF): d(97),
            ("BOX", RAF): d(10),
        }
        assert plant.states(order) == states(
            SHEET=(104, 104, 0),
            STEEL=(104, 260, 0),
            PAINT=(100, "16.5", 0),
            OIL=(100, 5, 0),
            SCREW=(98, 400, 0),
            LABEL=(97, 97, 0),
            BOX=(97, 10, 0),
            GREASE=(0, 0, "0.98"),
        )
    else:
        assert not scanned.exists()  # the scanner never consumes
        assert plant.picked_by_event(order) == by_event | {
            ("LABEL", MANUAL): d(97),
            ("BOX", MANUAL): d(10),
        }
        assert plant.states(order) == states(
            SHEET=(104, 104, 0),
            STEEL=(104, 260, 0),
            PAINT=(100, "16.5", 0),
            OIL=(100, 5, 0),
            SCREW=(98, 400, 0),
            LABEL=(0, 0, 97),
            BOX=(0, 0, 10),
            GREASE=(0, 0, "0.98"),
        )
    order.refresh_from_db()
    assert (order.quantity_completed, order.quantity_scrapped) == (d(97), d(7))


@pytest.mark.parametrize("arrival", ["in_time", "scrap_of_10_20_late"])
def test_scenario_1_feedback_raf_at_the_last_operation(arrival):
    """The last resource consumes on report as finished ("Feedback RaF"): its operation
    feedback consumes nothing; its report as finished (from its job terminal, with the scrap)
    consumes every operation finish line exactly once. Ops 10 and 20 have consumed theirs for
    their good output before (the report can only take what they output, so they are always
    known, and processed, before it), so the report adds only op 30's lines and the
    production finish lines; when ops 10 and 20 post their scrap late, after the report was
    processed, their feedback adds exactly the rest: the same totals either way."""
    plant, resources, terminals, _scanner, bike = scenario_1_plant(last_setting=ON_RAF)
    order = plant.order(bike, 100, tolerance=S1_TOLERANCE)
    w1, w2, w3 = plant.workers
    # Ops 10 and 20 report their good first and their scrap last; op 30 outputs 98 good,
    # of which the report as finished finds 1 scrap.
    t10 = job_terminal(
        plant,
        order,
        10,
        w1,
        terminals[10],
        start_at=1,
        started=104,
        chunks=[(10, 50, 0), (25, 50, 0), (26, 0, 4)],
    )
    t20 = job_runs(
        plant,
        order,
        20,
        w2,
        terminals[20],
        [(11, 50, [(20, 50, 0)]), (26, 50, [(35, 48, 0), (36, 0, 2)])],
    )
    t30 = job_runs(
        plant, order, 30, w3, terminals[30], [(21, 49, [(30, 49, 0)]), (37, 49, [(40, 49, 0)])]
    )
    rafs = [
        finished(plant, order, 31, 40, terminal=terminals[30]),
        finished(plant, order, 41, 57, 1, terminal=terminals[30]),
    ]
    supervisor = [consume(order, 55, 80, "0.980")]
    if arrival == "in_time":
        plan = [clock_ins(plant), t10 + t20 + t30 + rafs + supervisor, "process"]
    else:
        late = [t10[-1], t20[-1]]  # the scrap reports, which also complete the jobs
        on_time = [p for p in t10 + t20 if p not in late]
        plan = [clock_ins(plant), on_time + t30 + rafs, "process", late + supervisor, "process"]
    play(plant, plan)

    expected = S1_EXPECTED | {"LABEL": d(98), "BOX": d(10)}  # 98 reported (97 good + 1 scrap)
    plant.assert_consumed(order, expected)
    assert_on_hand_left(plant, resources, expected)
    op_30_feedback = [p["registration_uuid"] for p in t30 if p["kind"] == "report_progress"]
    assert not PickingListLine.objects.filter(registration__uuid__in=op_30_feedback).exists()
    common = {
        ("SHEET", START): d(104),
        ("SCREW", RAF): d(400),  # 98 x 4 x 1.02, all of it at the report as finished
        ("LABEL", RAF): d(98),
        ("BOX", RAF): d(10),
        ("GREASE", MANUAL): d("0.98"),
    }
    # Either way the report (98) finds ops 10 and 20 covered for their good output (100 and
    # 98) and takes none of their lines; their feedback, scrap included, consumes them.
    assert plant.picked_by_event(order) == common | {
        ("STEEL", FEEDBACK): d(260),
        ("PAINT", FEEDBACK): d("16.5"),
        ("OIL", FEEDBACK): d(5),
    }
    assert plant.states(order) == states(
        SHEET=(104, 104, 0),
        STEEL=(104, 260, 0),
        PAINT=(100, "16.5", 0),
        OIL=(100, 5, 0),
        SCREW=(98, 400, 0),
        LABEL=(98, 98, 0),
        BOX=(98, 10, 0),
        GREASE=(0, 0, "0.98"),
    )
    order.refresh_from_db()
    assert order.quantity_completed == d(97)


def test_scenario_1_over_production_consumes_its_ratio():
    """112 started for an order of 100 (12 % over-delivery tolerance): every line consumes for
    the output actually reported, beyond the order quantity; the order completes with 105 good
    and nothing in progress. Each operation starts what the one before output."""
    plant, resources, terminals, _scanner, bike = scenario_1_plant()
    order = plant.order(bike, 100, tolerance=12)
    w1, w2, w3 = plant.workers
    t10 = job_terminal(
        plant,
        order,
        10,
        w1,
        terminals[10],
        start_at=1,
        started=112,
        chunks=[(10, 54, 2), (25, 54, 2)],
    )
    t20 = job_terminal(
        plant,
        order,
        20,
        w2,
        terminals[20],
        start_at=26,
        started=108,
        chunks=[(30, 60, 1), (35, 46, 1)],
    )
    t30 = job_terminal(
        plant,
        order,
        30,
        w3,
        terminals[30],
        start_at=36,
        started=106,
        chunks=[(38, 50, 0), (40, 55, 1)],
    )
    scans = [finished(plant, order, 45, 60), finished(plant, order, 50, 45)]
    supervisor = [consume(order, 55, 80, "1.060")]
    play(plant, [clock_ins(plant), t10, t20, t30, scans, supervisor, "process"])

    expected = {
        "SHEET": d(112),
        "STEEL": d("280.000"),  # 112 x 2.5
        "PAINT": d("17.820"),  # 108 x 0.15 x 1.10
        "OIL": d("5.400"),  # 108 x 0.05
        "SCREW": d(432),  # 106 x 4 x 1.02 = 432.48 -> 432
        "LABEL": d(105),
        "BOX": d(11),  # 105 x 0.1 = 10.5 -> 11 (half up)
        "GREASE": d("1.060"),
    }
    plant.assert_consumed(order, expected)
    assert_on_hand_left(plant, resources, expected)
    assert plant.states(order) == states(
        SHEET=(112, 112, 0),
        STEEL=(112, 280, 0),
        PAINT=(108, "17.82", 0),
        OIL=(108, "5.4", 0),
        SCREW=(106, 432, 0),
        LABEL=(105, 105, 0),
        BOX=(105, 11, 0),
        GREASE=(0, 0, "1.06"),
    )
    order.refresh_from_db()
    assert (order.quantity_completed, order.quantity_in_progress) == (d(105), ZERO)
    assert order.status == OrderStatus.COMPLETED


def test_scenario_1_a_replayed_registration_consumes_once():
    """Every registration posted twice (the terminal did not get the answer), then the whole
    day posted again after processing: each UUID is stored and consumed once."""
    plant, resources, terminals, _scanner, bike = scenario_1_plant()
    order = plant.order(bike, 100, tolerance=S1_TOLERANCE)
    t10, t20, t30 = scenario_1_terminals(plant, order, terminals)
    day = (
        t10
        + t20
        + t30
        + [finished(plant, order, 45, 47), finished(plant, order, 50, 50)]
        + [consume(order, 55, 80, "0.980")]
    )
    play(plant, [clock_ins(plant), day, "process"], replay=True)
    journal = list(PickingListLine.objects.filter(order=order).values_list("pk", "quantity"))
    ledger = InventoryTransaction.objects.filter(order_ref=order.number).count()

    for post in day:
        answer = plant.post(**post, expect=202)
        assert answer["Idempotent-Replayed"] == "true"
    plant.process()

    assert RawRegistration.objects.filter(order=order).count() == len(day)
    assert list(PickingListLine.objects.filter(order=order).values_list("pk", "quantity")) == (
        journal
    )
    assert InventoryTransaction.objects.filter(order_ref=order.number).count() == ledger
    plant.assert_consumed(order, S1_EXPECTED)
    assert_on_hand_left(plant, resources, S1_EXPECTED)
    assert plant.on_hand("BIKE", plant.fg) == d(97)
    order.refresh_from_db()
    assert (order.quantity_completed, order.quantity_scrapped) == (d(97), d(7))


@pytest.mark.parametrize(
    "processed_between",
    [
        pytest.param(True, id="processed_between"),
        pytest.param(False, id="both_accepted_before_processing"),
    ],
)
def test_scenario_1_a_second_worker_joining_the_job_does_not_start_it_again(processed_between):
    """Two operators start op 10 of the order on its job terminal, neither giving a quantity
    (the terminal's default: what is left of the job). The sheet (a start line) is cut once
    for the 100 the job is planned for, whether or not the processor ran between the two
    starts."""
    plant, resources, terminals, _scanner, bike = scenario_1_plant()
    order = plant.order(bike, 100)
    w1, w2, _w3 = plant.workers
    job = plant.job(order, 10)
    first = [spec("start_job", 1, badge_id=w1, terminal=terminals[10], job=job)]
    second = [spec("start_job", 2, badge_id=w2, terminal=terminals[10], job=job)]
    plan = [clock_ins(plant), first, "process", second, "process"]
    if not processed_between:
        plan = [clock_ins(plant), first, second, "process"]
    play(plant, plan)

    assert plant.picked(order)["SHEET"] == d(100)
    assert plant.ledger(order)["SHEET"] == d(100)
    assert plant.on_hand("SHEET", resources[10].input_location) == d(400)
    assert plant.states(order)["SHEET"] == (d(100), d(100), ZERO)


# --- Scenario 2: a packaging robot reports as finished without an operation -------------------

SCENARIO_2_BOM = [
    Line("GRANULATE", "operation_finish", None, "0.25", allowance="4", unit="kg"),  # op 10
    Line("INSERT", "operation_finish", 20, "2"),
    Line("CORE", "start", 20, "1"),
    Line("CARTON", "production_finish", None, "0.1"),  # line 40: 10 cups per carton
    Line("FOIL", "production_finish", None, "0.02", allowance="5", unit="kg"),  # line 50
]
ROBOTS = {
    # resource setting, terminal's report_as_finished_consumes
    "resource_never": (NEVER, True),
    "terminal_without_consumption": (ON_RAF, False),
    "both": (NEVER, False),
}


def scenario_2_plant(robot: str):
    """Operations 10 and 20 on job terminals; packing is a robot the MES does not manage: not
    on the route, its sensor reports full cartons as finished into the packed-goods location."""
    plant = Plant()
    r10 = plant.resource("R10", ON_FEEDBACK)
    r20 = plant.resource("R20", ON_FEEDBACK)
    setting, consumes = ROBOTS[robot]
    packed = plant.location("PACKED", LocationKind.PRODUCTION_OUTPUT)
    robot_resource = plant.resource("ROBOT", setting, output_location=packed)
    terminals = {
        10: plant.terminal("T10", r10),
        20: plant.terminal("T20", r20),
        "robot": plant.terminal("ROBOT-SENSOR", robot_resource, consumes=consumes),
    }
    cup = plant.product("CUP", SCENARIO_2_BOM, [(10, r10), (20, r20)])
    stock = {
        ("GRANULATE", r10.input_location): 100,
        ("INSERT", r20.input_location): 1000,
        ("CORE", r20.input_location): 500,
        ("CARTON", robot_resource.input_location): 50,
        ("FOIL", robot_resource.input_location): 10,
    }
    for (part, location), quantity in stock.items():
        plant.stock(part, quantity, location)
    return plant, terminals, robot_resource, packed, cup, stock


def scenario_2_terminals(plant, order, terminals):
    """Op 10 outputs 105 good at 10 and 100 at 20; op 20 starts each batch as it arrives."""
    w1, w2, _w3 = plant.workers
    t10 = job_terminal(
        plant,
        order,
        10,
        w1,
        terminals[10],
        start_at=1,
        started=208,
        chunks=[(10, 105, 1), (20, 100, 2)],
    )
    t20 = job_runs(
        plant, order, 20, w2, terminals[20], [(11, 105, [(15, 100, 3)]), (21, 100, [(25, 100, 2)])]
    )
    return t10, t20


S2_EXPECTED = {
    "GRANULATE": d("54.080"),  # 208 through op 10 x 0.25 x 1.04
    "INSERT": d(410),  # 205 through op 20 x 2
    "CORE": d(205),  # started at op 20 (105 + 100)
    "CARTON": d(20),  # 200 cups / 10, by the supervisor (21 taken, 1 returned)
    "FOIL": d("4.200"),  # 200 x 0.02 x 1.05, by the supervisor
}


def assert_scenario_2(plant, order, robot_posts, stock, packed) -> None:
    plant.assert_consumed(order, S2_EXPECTED)
    for (part, location), quantity in stock.items():
        assert plant.on_hand(part, location) == D(quantity) - S2_EXPECTED[part], part
    assert plant.on_hand("CUP", packed) == d(200)
    # The robot's reports consumed nothing at all.
    robot_uuids = [p["registration_uuid"] for p in robot_posts]
    assert not PickingListLine.objects.filter(registration__uuid__in=robot_uuids).exists()
    assert plant.picked_by_event(order) == {
        ("GRANULATE", FEEDBACK): d("54.08"),
        ("INSERT", FEEDBACK): d(410),
        ("CORE", START): d(205),
        ("CARTON", MANUAL): d(20),
        ("FOIL", MANUAL): d("4.2"),
    }
    assert plant.states(order) == states(
        GRANULATE=(208, "54.08", 0),
        INSERT=(205, 410, 0),
        CORE=(205, 205, 0),
        CARTON=(0, 0, 20),
        FOIL=(0, 0, "4.2"),
    )
    # The carton correction is in the ledger as an issue of 21 and a return of 1.
    cartons = InventoryTransaction.objects.filter(
        order_ref=order.number,
        item=plant.items["CARTON"],
        kind__in=(TransactionKind.ISSUE, TransactionKind.RETURN),
    )
    assert sorted(cartons.values_list("kind", "quantity")) == [
        (TransactionKind.ISSUE, d(-21)),
        (TransactionKind.RETURN, d(1)),
    ]


def assert_order_completed(order) -> None:
    """200 good finished, 8 scrapped at the operations, nothing left on the floor."""
    order.refresh_from_db()
    assert (order.quantity_completed, order.quantity_scrapped, order.quantity_in_progress) == (
        d(200),
        d(8),
        ZERO,
    )
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.parametrize("robot", list(ROBOTS))
def test_scenario_2_packaging_robot_reports_as_finished_without_an_operation(robot):
    """The robot's sensor reports each full batch as finished as it passes; it consumes
    nothing (its resource never consumes and / or its terminal is set not to), so labelling
    never fails on the ledger. The job terminals consume their operations' lines exactly once,
    the supervisor the packaging; the order completes once 200 are finished and nothing is
    left in progress."""
    plant, terminals, _robot_resource, packed, cup, stock = scenario_2_plant(robot)
    order = plant.order(cup, 200, tolerance=4)  # op 10 starts 208
    t10, t20 = scenario_2_terminals(plant, order, terminals)
    sensor = terminals["robot"]
    robot_posts = [
        finished(plant, order, 16, 100, terminal=sensor),
        finished(plant, order, 30, 100, terminal=sensor),
    ]
    supervisor = [
        consume(order, 40, 40, 21, location=sensor.resource.input_location),
        consume(order, 41, 40, -1, location=sensor.resource.input_location),
        consume(order, 42, 50, "4.200", location=sensor.resource.input_location),
    ]
    play(plant, [clock_ins(plant), t10 + t20 + robot_posts, "process"])
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    play(plant, [supervisor, "process"])  # a completed order still takes corrections
    assert_scenario_2(plant, order, robot_posts, stock, packed)
    assert_order_completed(order)


def scenario_2_robot_first():
    """The job terminals go offline after the first batch: the robot's first report is
    processed first, the terminals' backlog (which happened before it) afterwards, with the
    robot's second report (it can only report what op 20 is known to have output) and the
    supervisor's."""
    plant, terminals, _robot_resource, packed, cup, stock = scenario_2_plant("both")
    order = plant.order(cup, 200, tolerance=4)  # op 10 starts 208
    t10, t20 = scenario_2_terminals(plant, order, terminals)
    sensor = terminals["robot"]
    robot_posts = [
        finished(plant, order, 16, 100, terminal=sensor),
        finished(plant, order, 30, 100, terminal=sensor),
    ]
    supervisor = [
        consume(order, 40, 40, 21, location=sensor.resource.input_location),
        consume(order, 41, 40, -1, location=sensor.resource.input_location),
        consume(order, 42, 50, "4.200", location=sensor.resource.input_location),
    ]
    play(
        plant,
        [
            clock_ins(plant),
            t10[:2] + t20[:2] + robot_posts[:1],
            "process",
            t10[2:] + t20[2:] + robot_posts[1:],
            supervisor,
            "process",
        ],
    )
    return plant, order, robot_posts, stock, packed


def test_scenario_2_terminals_posting_after_the_robot_consume_once():
    """Arrival order does not change consumption: the robot's earlier-processed report took
    nothing, the terminals' backlog consumes exactly the operations' lines."""
    plant, order, robot_posts, stock, packed = scenario_2_robot_first()
    assert_scenario_2(plant, order, robot_posts, stock, packed)


def test_scenario_2_order_completes_when_the_terminals_post_after_the_robot():
    """Same day, same arrival order: the order must end completed with nothing in progress
    (208 started - 8 scrapped - 200 finished), as when the reports arrive in time."""
    _plant, order, _robot_posts, _stock, _packed = scenario_2_robot_first()
    assert_order_completed(order)


# --- Scenario 3: three orders exchanging semi-finished goods ----------------------------------


def scenario_3_plant(dough_principle: str = "operation_finish"):
    """A bakery line: mixer (10), oven (20), bagging (30), each its own order of one operation.
    The untracked locations in between are one machine's output and the next one's input:
    mixer -> MID-12 -> oven -> MID-23 -> bagging -> FG."""
    plant = Plant()
    mid_12 = plant.location("MID-12")
    mid_23 = plant.location("MID-23")
    mixer = plant.resource("MIXER", ON_RAF, output_location=mid_12)  # "Feedback RaF"
    oven = plant.resource("OVEN", ON_FEEDBACK, input_location=mid_12, output_location=mid_23)
    bagging = plant.resource("BAGGING", ON_FEEDBACK, input_location=mid_23)
    terminals = {
        "mixer": plant.terminal("T-MIXER", mixer),
        "oven": plant.terminal("T-OVEN", oven),
        "bagging": plant.terminal("T-BAGGING", bagging),
    }
    dough = plant.product(
        "DOUGH",
        [
            Line("FLOUR", "operation_finish", None, "0.5", allowance="2", unit="kg"),
            Line("YEAST", "start", None, "0.01", unit="kg"),
        ],
        [(10, mixer)],
        unit="kg",
    )
    loaf = plant.product(
        "LOAF",
        [
            Line("DOUGH", dough_principle, None, "0.5", unit="kg"),
            Line("SEEDS", "production_finish", None, "0.002", unit="kg"),
        ],
        [(10, oven)],
    )
    bagged = plant.product(
        "BAGGED",
        [
            Line("LOAF", "operation_finish", None, "1"),
            Line("BAG", "production_finish", None, "1", allowance="1"),
        ],
        [(10, bagging)],
    )
    stock = {
        ("FLOUR", mixer.input_location): 1000,
        ("YEAST", mixer.input_location): 20,
        ("SEEDS", mid_12): 10,
        ("BAG", mid_23): 2000,
    }
    for (part, location), quantity in stock.items():
        plant.stock(part, quantity, location)
    return plant, terminals, (mid_12, mid_23), (dough, loaf, bagged), stock


def mixer_day(plant, order, worker, mixer) -> list[dict]:
    """The mixer outputs 1010 kg good; its reports as finished take them: 1000 good and 10
    found scrap."""
    return [
        *job_terminal(
            plant,
            order,
            10,
            worker,
            mixer,
            start_at=1,
            started=1010,
            chunks=[(10, 600, 0), (40, 410, 0)],
        ),
        finished(plant, order, 11, 600, terminal=mixer),
        finished(plant, order, 41, 400, 10, terminal=mixer),
    ]


def test_scenario_3_three_orders_exchanging_semi_finished_goods():
    """A mixes 1010 kg of dough (SFG-1) for an order of 1000 and its job terminal reports it as
    finished into the oven's input location, 1000 good and 10 scrap; B bakes 1790 loaves
    (SFG-2) from it at the oven and reports them into the bagging input; C bags 1700 loaves and
    a scanner reports the bags, consuming only the bags: the job devices have consumed
    everything else. Each order's tolerance covers what its operation starts beyond it.
    Each order consumes its own BOM once, and the semi-finished stock in between is what was
    produced minus what was consumed. Everything is processed in one run: the processor
    takes the three lanes in event-time order, so B never consumes dough before A has
    reported it."""
    plant, terminals, (mid_12, mid_23), (dough, loaf, bagged), stock = scenario_3_plant()
    a = plant.order(dough, 1000, tolerance=1)  # starts 1010
    b = plant.order(loaf, 1790, tolerance=2)  # starts 1820
    c = plant.order(bagged, 1700, tolerance=1)  # starts 1710
    w1, w2, w3 = plant.workers
    mixer, oven, bagging = terminals["mixer"], terminals["oven"], terminals["bagging"]
    order_a = mixer_day(plant, a, w1, mixer)
    order_b = [
        *job_terminal(
            plant,
            b,
            10,
            w2,
            oven,
            start_at=12,
            started=1820,
            chunks=[(20, 1000, 10), (50, 790, 20)],
        ),
        finished(plant, b, 21, 1000, terminal=oven),
        finished(plant, b, 51, 790, terminal=oven),
    ]
    order_c = [
        *job_terminal(
            plant,
            c,
            10,
            w3,
            bagging,
            start_at=22,
            started=1710,
            chunks=[(30, 900, 5), (60, 800, 5)],
        ),
        finished(plant, c, 31, 900),  # the scanner: no device
        finished(plant, c, 61, 800),
    ]
    play(plant, [clock_ins(plant), order_c + order_b + order_a, "process"])

    # A: the mixer's feedback consumed nothing, its reports as finished the flour (with the
    # 10 kg scrapped), its start the yeast (for the 1010 kg started: 10.1 kg).
    plant.assert_consumed(a, {"FLOUR": d("515.100"), "YEAST": d("10.100")})  # 1010 x 0.51
    assert plant.picked_by_event(a) == {("FLOUR", RAF): d("515.1"), ("YEAST", START): d("10.1")}
    assert plant.states(a) == states(FLOUR=(1010, "515.1", 0), YEAST=(1010, "10.1", 0))
    # B: the dough at the oven's feedback (1820 loaves x 0.5 kg), the seeds at its report.
    plant.assert_consumed(b, {"DOUGH": d("910.000"), "SEEDS": d("3.580")})  # 1790 x 0.002
    assert plant.picked_by_event(b) == {("DOUGH", FEEDBACK): d(910), ("SEEDS", RAF): d("3.58")}
    assert plant.states(b) == states(DOUGH=(1820, 910, 0), SEEDS=(1790, "3.58", 0))
    # C: the loaves at the bagging feedback, the bags (1700 x 1.01) at the scanner's report.
    plant.assert_consumed(c, {"LOAF": d(1710), "BAG": d(1717)})
    assert plant.picked_by_event(c) == {("LOAF", FEEDBACK): d(1710), ("BAG", RAF): d(1717)}
    assert plant.states(c) == states(LOAF=(1710, 1710, 0), BAG=(1700, 1717, 0))
    scans = [p["registration_uuid"] for p in order_c[-2:]]
    assert set(
        PickingListLine.objects.filter(registration__uuid__in=scans).values_list(
            "component__description", flat=True
        )
    ) == {"BAG"}

    # The semi-finished goods: produced into the location between two machines, consumed
    # from it by the next order, the rest still there.
    def produced(order) -> Decimal:
        return InventoryTransaction.objects.filter(
            order_ref=order.number, kind=TransactionKind.FINISHED_RECEIPT
        ).aggregate(total=Sum("quantity"))["total"]

    assert produced(a) == d(1000)
    assert plant.on_hand("DOUGH", mid_12) == produced(a) - d(910) == d(90)
    assert produced(b) == d(1790)
    assert plant.on_hand("LOAF", mid_23) == produced(b) - d(1710) == d(80)
    assert plant.on_hand("BAGGED", plant.fg) == d(1700)
    consumed = {"FLOUR": d("515.1"), "YEAST": d("10.1"), "SEEDS": d("3.58"), "BAG": d(1717)}
    for (part, location), quantity in stock.items():
        assert plant.on_hand(part, location) == D(quantity) - consumed[part], part
    for order, good in ((a, 1000), (b, 1790), (c, 1700)):
        order.refresh_from_db()
        assert (order.quantity_completed, order.quantity_in_progress) == (d(good), ZERO)
        assert order.status == OrderStatus.COMPLETED


def test_scenario_3_dough_available_at_the_oven_is_consumed_when_it_arrives():
    """B's dough line is "Available at location": the mixer's reports as finished put the
    dough at the oven's input location, and B (started) consumes it on arrival, up to its
    requirement for the order quantity (1790 x 0.5 = 895 kg); the rest stays at the location.
    B's own feedback and report as finished consume no dough."""
    plant, terminals, (mid_12, _mid_23), (dough, loaf, _bagged), _stock = scenario_3_plant(
        "available_at_location"
    )
    a, b = plant.order(dough, 1000, tolerance=1), plant.order(loaf, 1790)
    w1, w2, _w3 = plant.workers
    mixer, oven = terminals["mixer"], terminals["oven"]
    order_a = mixer_day(plant, a, w1, mixer)
    order_b = [
        *job_terminal(
            plant, b, 10, w2, oven, start_at=5, started=1790, chunks=[(20, 1000, 10), (50, 770, 10)]
        ),
        finished(plant, b, 21, 1000, terminal=oven),
        finished(plant, b, 51, 770, terminal=oven),
    ]
    play(plant, [clock_ins(plant), order_a + order_b, "process"])

    plant.assert_consumed(b, {"DOUGH": d("895.000"), "SEEDS": d("3.540")})  # 1770 x 0.002
    assert plant.picked_by_event(b) == {("DOUGH", PUT): d(895), ("SEEDS", RAF): d("3.54")}
    assert plant.on_hand("DOUGH", mid_12) == d(1000) - d(895)


# --- The matrix through the processor -------------------------------------------------------
#
# One operation on one resource, an order of 10 with 20 % over-delivery tolerance; the floor
# starts 12, reports 10 good + 1 scrap at the operation (1 still in progress) and 10 good as
# finished (no more than the operation output). Every line has a ratio of
# 1.5 x 1.10 = 1.65 pieces: start 12 x 1.65 = 19.8 -> 20, operation feedback
# 11 x 1.65 = 18.15 -> 18, report as finished 10 x 1.65 = 16.5 -> 17 (half up). The quantity
# shows which output drove it.

BY_START = {START: (20, 12)}  # event: (quantity consumed, output covered)
BY_FEEDBACK = {FEEDBACK: (18, 11)}
BY_RAF = {RAF: (17, 10)}
NOTHING: dict = {}
REGISTRATION_OF = {START: "start_job", FEEDBACK: "report_progress", RAF: "report_as_finished"}

MATRIX = {
    # effective principle -> resource setting -> what the line consumed, by which event
    "manual": {ON_FEEDBACK: NOTHING, ON_RAF: NOTHING, NEVER: NOTHING},
    "start": {ON_FEEDBACK: BY_START, ON_RAF: BY_START, NEVER: BY_START},
    "operation_finish": {ON_FEEDBACK: BY_FEEDBACK, ON_RAF: BY_RAF, NEVER: NOTHING},
    "production_finish": {ON_FEEDBACK: BY_RAF, ON_RAF: BY_RAF, NEVER: NOTHING},
}
LINE_PRINCIPLES = [
    # (the BOM line's principle, the component's default, the principle that applies): the
    # default differs from the line's own principle unless the line says none.
    ("manual", "production_finish", "manual"),
    ("start", "production_finish", "start"),
    ("operation_finish", "manual", "operation_finish"),
    ("production_finish", "start", "production_finish"),
    ("none", "manual", "manual"),
    ("none", "start", "start"),
    ("none", "operation_finish", "operation_finish"),
    ("none", "production_finish", "production_finish"),
]


def one_operation_plant(setting: str, lines: list[Line]):
    plant = Plant(workers=1)
    resource = plant.resource("R10", setting)
    terminal = plant.terminal("T10", resource)
    product = plant.product("WIDGET", lines, [(10, resource)])
    for line in lines:
        plant.stock(line.part, 100, resource.input_location)
    return plant, resource, terminal, product


def one_operation_day(plant, order, job_device, raf_device: dict) -> list:
    worker = plant.workers[0]
    return [
        spec("clock_in", 0, badge_id=worker),
        *job_terminal(
            plant, order, 10, worker, job_device, start_at=1, started=12, chunks=[(10, 10, 1)]
        ),
        finished(plant, order, 20, 10, **raf_device),
    ]


@pytest.mark.parametrize("setting", [ON_FEEDBACK, ON_RAF, NEVER])
@pytest.mark.parametrize(
    ("principle", "default", "effective"),
    LINE_PRINCIPLES,
    ids=[f"{p}-{d}" if p == "none" else p for p, d, _e in LINE_PRINCIPLES],
)
def test_principle_by_event_by_resource_setting_through_the_processor(
    principle, default, effective, setting
):
    """Start, progress and report as finished from the resource's own job terminal: the line
    is consumed by exactly the event the matrix names, for that event's output, once."""
    line = Line("PART", principle, None, "1.5", allowance="10", default=default)
    plant, resource, terminal, product = one_operation_plant(setting, [line])
    order = plant.order(product, 10, tolerance=20)  # starts 12
    play(plant, [one_operation_day(plant, order, terminal, {"terminal": terminal}), "process"])

    expected = MATRIX[effective][setting]
    journal = PickingListLine.objects.filter(order=order)
    assert sorted(journal.values_list("registration__kind", "event", "principle", "quantity")) == [
        (REGISTRATION_OF[event], event, effective, d(quantity))
        for event, (quantity, _covered) in expected.items()
    ]
    total = sum((d(q) for q, _c in expected.values()), ZERO)
    plant.assert_consumed(order, {"PART": total})
    assert plant.on_hand("PART", resource.input_location) == d(100) - total
    covered = sum((d(c) for _q, c in expected.values()), ZERO)
    assert plant.states(order) == {"PART": (covered, total, ZERO)}


RAF_SOURCES = {
    # how the report as finished arrives -> the registration's device fields
    "own_terminal": lambda t: {"terminal": t["consuming"]},
    "terminal_not_consuming": lambda t: {"terminal": t["not_consuming"]},
    "resource_without_terminal": lambda t: {"resource": t["consuming"].resource},
    "scanner_no_device": lambda t: {},
    "without_consumption": lambda t: {"terminal": t["consuming"], "consume": False},
}
WIRE_FB, WIRE_RAF, TAG_RAF = (("WIRE", FEEDBACK), 18), (("WIRE", RAF), 17), (("TAG", RAF), 17)
RAF_MATRIX = {
    # WIRE: operation finish, TAG: production finish; -> {(part, event): quantity}
    ON_FEEDBACK: {
        "own_terminal": [WIRE_FB, TAG_RAF],
        "terminal_not_consuming": [WIRE_FB],
        "resource_without_terminal": [WIRE_FB, TAG_RAF],
        "scanner_no_device": [WIRE_FB, TAG_RAF],
        "without_consumption": [WIRE_FB],
    },
    ON_RAF: {
        "own_terminal": [WIRE_RAF, TAG_RAF],
        "terminal_not_consuming": [],
        "resource_without_terminal": [WIRE_RAF, TAG_RAF],
        "scanner_no_device": [TAG_RAF],
        "without_consumption": [],
    },
    NEVER: {
        "own_terminal": [],
        "terminal_not_consuming": [],
        "resource_without_terminal": [],
        "scanner_no_device": [TAG_RAF],  # a scanner is no resource: production finish only
        "without_consumption": [],
    },
}


@pytest.mark.parametrize("source", list(RAF_SOURCES))
@pytest.mark.parametrize("setting", [ON_FEEDBACK, ON_RAF, NEVER])
def test_report_as_finished_source_by_resource_setting_through_the_processor(setting, source):
    """Who reports as finished decides what it may consume: the resource's own terminal or the
    resource named directly (its setting applies), a terminal set not to consume or a report
    made without consumption (nothing), a scanner that is no resource (production finish
    lines only). The operation's job terminal consumes per the resource setting as before."""
    lines = [
        Line("WIRE", "operation_finish", None, "1.5", allowance="10"),
        Line("TAG", "production_finish", None, "1.5", allowance="10"),
    ]
    plant, resource, terminal, product = one_operation_plant(setting, lines)
    devices = {
        "consuming": terminal,
        "not_consuming": plant.terminal("SCAN", resource, consumes=False),
    }
    order = plant.order(product, 10, tolerance=20)  # starts 12
    raf_device = RAF_SOURCES[source](devices)
    play(plant, [one_operation_day(plant, order, terminal, raf_device), "process"])

    expected = {key: d(quantity) for key, quantity in RAF_MATRIX[setting][source]}
    assert plant.picked_by_event(order) == expected
    totals = {"WIRE": ZERO, "TAG": ZERO}
    for (part, _event), quantity in expected.items():
        totals[part] += quantity
    plant.assert_consumed(order, totals)
    for part, total in totals.items():
        assert plant.on_hand(part, resource.input_location) == d(100) - total
