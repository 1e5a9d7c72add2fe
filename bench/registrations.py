"""Shop-floor registrations through the processor vs a bare bulk INSERT of the rows it writes.

    .venv/bin/python bench/registrations.py [--registrations 100000] [--orders 1000]
        [--workers 1,2] [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_reg]
    quick (a few minutes on 2 busy cores; migrate alone takes 30 s there):
    .venv/bin/python bench/registrations.py --registrations 2000 --orders 20

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it and, untimed:

1. builds a plant (3 resources with input locations, terminals, a lot-tracked product with a
   BOM of start / operation finish / production finish / manual lines, one of them lot-tracked,
   a 3-operation route, workers), stocks the input locations, creates and releases --orders
   orders through orders.services (release reserves materials and creates the jobs);
2. simulates the workers' shifts (absence now and then, clock in, indirect time, start job or a
   bundle of two, progress with good and scrap, scrap reports, stops for the break and at the
   end of the shift, report as finished in batches, manual consumption, clock out) until about
   --registrations registrations exist, and stores them: the posts of a random sample of workers
   (about --validate posts; whole workers, as the door judges a post against the same worker's
   later ones) go through execution.services.registrations.registration_accept (validated, in
   event-time order, after the rest); the rest is bulk_created as the RawRegistration rows
   registration_accept writes (built by its own _rows_for, with what registration_check fills
   in); the sample's stored
   rows are compared field by field with the rows the bench would have built;
3. copies the database as a template (CREATE DATABASE ... TEMPLATE): every timed run starts
   from an identical copy.

Timed, for each --workers K: the database is recreated from the template, K processes are
started (this file with --child: django.setup, connect, then wait), and at the same instant
all of them run registrations_process() until nothing is left (a processor that finds only
lanes busy in the other one polls again, as beat would run it again). Wall time until the
last one is done. Then every registration is checked to be processed exactly once (status
counts, one processing-log entry, one logbook entry, one route-card line per job feedback,
one job activity per start, one report-as-finished line per report, ledger rows = journal
lines) and every order's quantities and consumption against what the simulation reported.

In the same run: the rows the processor inserted (every table that grew, history tables
included) are read back and inserted bare into scratch copies of their tables, one
transaction: psycopg COPY into copies without indexes (LIKE ... INCLUDING DEFAULTS), and
psycopg executemany (pipeline) INSERT into copies with their indexes and checks (LIKE ...
INCLUDING ALL). Ratio processing time : bare insert time, measured side by side.

Finally the statements per registration and where the time goes, per kind, on a sample of
whole lanes processed in-process (execute_wrapper; --profile adds cProfile on another
sample), and a JSON line with the figures.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse, urlunparse

from execution.services import order_lifecycle

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_reg"
D = Decimal
OPERATIONS = (10, 20, 30)
# Kinds processed into a route-card line (job feedback) and into a job activity (starts).
FEEDBACK_KINDS = ("stop_job", "report_progress", "report_scrap")
START_KINDS = ("start_job", "bundle")


# --- Databases ---------------------------------------------------------------------------------


def _admin(url: str):
    import psycopg

    parsed = urlparse(url)
    return psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True)


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name.startswith("mes_bench"):
        sys.exit(f"refusing to drop {name!r}: the bench database name must start with mes_bench")
    return name


def recreate_database(url: str, *, template: str | None = None) -> None:
    """Drop the bench database and create it again, empty or as a copy of `template`."""
    from psycopg import sql

    name = database_name(url)
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def copy_as_template(url: str, template: str) -> None:
    from psycopg import sql

    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(template), sql.Identifier(database_name(url))
            )
        )


def drop_database(url: str, name: str) -> None:
    from psycopg import sql

    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@dataclass
class TableState:
    count: int
    max_pk: int | None
    pk: str | None


def table_states(url: str) -> dict[str, TableState]:
    """Row count and highest primary key of every table (single integer primary keys)."""
    import psycopg

    states = {}
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        for table in tables:
            pk_rows = conn.execute(
                """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod)
                FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = %s::regclass AND i.indisprimary
                """,
                [f'"{table}"'],
            ).fetchall()
            pk = (
                pk_rows[0][0]
                if len(pk_rows) == 1 and pk_rows[0][1] in ("bigint", "integer")
                else None
            )
            if pk:
                count, max_pk = conn.execute(
                    f'SELECT count(*), max("{pk}") FROM "{table}"'
                ).fetchone()
            else:
                count, max_pk = conn.execute(f'SELECT count(*), NULL FROM "{table}"').fetchone()
            states[table] = TableState(count, max_pk, pk)
    return states


# --- The plant ---------------------------------------------------------------------------------


def build_plant(workers: int, stock_per_part: int):
    from django.contrib.auth import get_user_model  # noqa: F401  (auth app loaded)

    from execution.models import AbsenceCode, IndirectActivity, PayAgreement, Terminal, Worker
    from integration.models import DefectReasonMapping
    from inventory import services as inventory_services
    from inventory.choices import LocationKind, SourceType, Tracking
    from inventory.models import Item, Location, Site, UnitOfMeasure, Warehouse
    from inventory.services import Source
    from mesproject.actors import Actor
    from orders.choices import ConsumptionSetting, ReasonKind
    from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation

    pcs = UnitOfMeasure.objects.create(code="pcs", name="pieces", decimal_places=0)
    site = Site.objects.create(code="BR", name="Bench plant")
    warehouse = Warehouse.objects.create(site=site, code="MAIN", name="Main")
    output = Location.objects.create(
        warehouse=warehouse, code="FG", name="Finished goods", kind=LocationKind.PRODUCTION_OUTPUT
    )
    resources = []
    for index in (1, 2, 3):
        resources.append(
            Resource.objects.create(
                code=f"BR-R{index}",
                name=f"Machine {index}",
                site=site,
                consumption_setting=ConsumptionSetting.ON_OPERATION_FEEDBACK,
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
        part_number="BR-BIKE", description="Bike", unit=pcs, tracking=Tracking.LOT
    )
    bom = Bom.objects.create(item=product, revision=product.revision, approved=True)
    # (part, principle, operation, quantity per, tracking, input location of)
    lines = [
        ("FRAME", "start", 10, "1", Tracking.LOT, 0),
        ("WHEEL", "operation_finish", 20, "2", Tracking.NONE, 1),
        ("GRIP", "production_finish", None, "2", Tracking.NONE, 2),
        ("BELL", "manual", 30, "1", Tracking.NONE, 2),
    ]
    components = {}
    actor = Actor(process="bench")
    for number, (part, principle, operation, per, tracking, at) in enumerate(lines, start=1):
        component = Item.objects.create(
            part_number=f"BR-{part}", description=part, unit=pcs, tracking=tracking
        )
        components[part] = component
        BomLine.objects.create(
            bom=bom,
            line_number=number * 10,
            component=component,
            quantity_per=D(per),
            flushing_principle=principle,
            operation_number=operation,
        )
        needed = stock_per_part * int(per)
        # Lot-tracked: three lots, the first two run out during the run (FIFO splits).
        lots = (
            [("L1", needed * 2 // 10), ("L2", needed * 2 // 10), ("L3", needed)]
            if tracking == Tracking.LOT
            else [(None, needed * 2)]
        )
        for lot, quantity in lots:
            inventory_services.inventory_receive(
                item=component,
                quantity=D(max(quantity, 1)),
                location=resources[at].input_location,
                lot=f"BR-{part}-{lot}" if lot else None,
                source=Source(SourceType.MANUAL, f"bench-stock-{part}-{lot}"),
                actor=actor,
            )
    route = Route.objects.create(item=product, revision=product.revision, approved=True)
    for index, resource in enumerate(resources, start=1):
        RouteOperation.objects.create(
            route=route,
            operation_number=index * 10,
            name=f"Operation {index * 10}",
            resource=resource,
            setup_time_minutes=D(0),
            run_time_minutes_per_unit=D("1.5"),
        )
    agreement = PayAgreement.objects.create(code="STD", name="Standard")
    people = [
        Worker.objects.create(
            badge_id=f"BR-B{i:04d}", name=f"Worker {i}", site=site, pay_agreement=agreement
        )
        for i in range(1, workers + 1)
    ]
    scrap_reason = ReasonCode.objects.create(
        code="BR-SCRATCH", description="Scratched", kind=ReasonKind.SCRAP
    )
    # Mapped to the ERP's reason code, as in a configured plant: an unmapped defect code
    # dead-letters every scrap message (with an alert) instead of sending it.
    DefectReasonMapping.objects.create(
        defect=scrap_reason, erp_reason_code="SCR-01", cost_center="CC-100"
    )
    return SimpleNamespace(
        site=site,
        output=output,
        resources=resources,
        terminals=terminals,
        product=product,
        components=components,
        workers=people,
        scrap_reason=scrap_reason,
        absence=AbsenceCode.objects.create(code="DOC", description="Doctor"),
        indirect=IndirectActivity.objects.create(code="CLEAN", description="Cleaning"),
    )


# --- The shifts: what the floor posts ----------------------------------------------------------


@dataclass
class Post:
    """One post of a terminal (a bundle: one post, one stored row per job)."""

    kind: str
    at: datetime
    uuid: uuid.UUID
    worker: object = None
    resource: int = 0  # index of the resource whose terminal posts it
    job: object = None
    jobs: list | None = None
    order: object = None
    quantity: Decimal | None = None
    good: int = 0
    scrap: int = 0
    stops: bool = False
    completes: bool = False
    absence_minutes: int = 0
    lot_number: str = ""
    material: object = None

    @property
    def rows(self) -> int:
        return len(self.jobs) if self.kind == "bundle" else 1


@dataclass
class Segment:
    """One operation of one order, as one worker runs it."""

    order: object
    op: int
    job: object
    input: int = 0
    good: int = 0
    scrap: int = 0
    started: bool = False
    done: bool = False
    raf_pending: int = 0

    @property
    def remaining(self) -> int:
        return self.input - self.good - self.scrap


@dataclass
class Expected:
    """What the processed registrations must add up to, per order."""

    quantity: int
    good: dict = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    scrap: dict = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    finished: int = 0
    manual: int = 0


class Shifts:
    """Simulate every worker's shifts over its orders; deterministic for a seed."""

    START = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday; moved to the recent past afterwards

    def __init__(self, *, orders, jobs, bells, workers, quantity: int, seed: int):
        self.rng = random.Random(seed)
        self.orders, self.jobs, self.bells = orders, jobs, bells
        self.workers, self.quantity = workers, quantity
        self.posts: list[Post] = []
        self.expected = {
            id(order): Expected(quantity=quantity) for order in orders
        }  # keyed by object: orders may be stand-ins during calibration
        self.scrappy = {id(order): self.rng.random() < 0.4 for order in orders}

    def new_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def run(self) -> list[Post]:
        count = len(self.workers)
        for index, worker in enumerate(self.workers):
            WorkerShifts(self, worker, index).run(self.orders[index::count])
        now = datetime.now(UTC)
        last = max(post.at for post in self.posts)
        # Whole days, so shifts still start at 06:00; the last one ended a day or more ago.
        shift = timedelta(days=(now - timedelta(days=1) - last).days)
        for post in self.posts:
            post.at += shift
        self.posts.sort(key=lambda p: p.at)
        return self.posts


class WorkerShifts:
    def __init__(self, shifts: Shifts, worker, index: int):
        self.s, self.rng, self.worker = shifts, shifts.rng, worker
        self.jitter = timedelta(minutes=index % 45)
        self.shift = -1
        self.open: list[Segment] = []
        self.turn = 0
        self.resource = 0
        self.new_shift()

    def emit(self, kind: str, **fields) -> Post:
        fields.setdefault("resource", self.resource)
        self.resource = fields["resource"]
        post = Post(kind=kind, at=self.t, uuid=self.s.new_uuid(), worker=self.worker, **fields)
        self.s.posts.append(post)
        self.t += timedelta(seconds=self.rng.randint(90, 360))
        return post

    def wait(self, low: int, high: int) -> None:
        self.t += timedelta(minutes=self.rng.randint(low, high))

    def new_shift(self) -> None:
        self.shift += 1
        self.t = Shifts.START + timedelta(days=self.shift, hours=6) + self.jitter
        self.break_at = self.t + timedelta(hours=4)
        self.end = self.t + timedelta(hours=8)
        self.break_done = False
        if self.rng.random() < 0.03:
            self.emit("absence", absence_minutes=self.rng.choice((30, 60, 90)))
        self.emit("clock_in")
        if self.rng.random() < 0.3:
            self.indirect()

    def indirect(self) -> None:
        self.emit("indirect_start")
        self.wait(5, 20)
        self.emit("indirect_stop")

    def interrupt(self) -> None:
        """Stop what is running: a last progress that stops the job, or a plain stop."""
        for seg in list(self.open):
            if seg.remaining > 1 and self.rng.random() < 0.5:
                self.report(seg, stops=True)
            else:
                self.emit("stop_job", job=seg.job, resource=OPERATIONS.index(seg.op))
        self.open = []

    def check_time(self) -> None:
        if self.t >= self.end:
            self.interrupt()
            self.emit("clock_out")
            self.new_shift()
        elif not self.break_done and self.t >= self.break_at:
            self.interrupt()
            self.emit("break_start")
            self.wait(15, 30)
            self.emit("break_stop")
            self.break_done = True

    def start(self, seg: Segment) -> None:
        expected = self.s.expected[id(seg.order)]
        if not seg.started:
            seg.input = expected.quantity if seg.op == 10 else expected.good[seg.op - 10]
        self.emit(
            "start_job",
            job=seg.job,
            resource=OPERATIONS.index(seg.op),
            # What a terminal sends: on the first start what may start there (the order
            # quantity, later what the operation before output as good), nothing after.
            quantity=D(0) if seg.started else D(seg.input),
        )
        seg.started = True
        self.open = [seg]

    def report(self, seg: Segment, *, stops: bool = False) -> None:
        rng, expected = self.rng, self.s.expected[id(seg.order)]
        resource = OPERATIONS.index(seg.op)
        units = min(seg.remaining, rng.randint(1, 3))
        scrap = 1 if units and self.s.scrappy[id(seg.order)] and rng.random() < 0.08 else 0
        good = units - scrap
        done = seg.remaining == units
        if scrap and not done and not stops and rng.random() < 0.4:
            self.emit("report_scrap", job=seg.job, resource=resource, scrap=scrap)
            seg.scrap += scrap
            expected.scrap[seg.op] += scrap
            scrap = 0
            if not good:
                return
        self.emit(
            "report_progress",
            job=seg.job,
            resource=resource,
            good=good,
            scrap=scrap,
            stops=stops and not done,
            completes=done,
        )
        seg.good += good
        seg.scrap += scrap
        expected.good[seg.op] += good
        expected.scrap[seg.op] += scrap
        if done or stops:
            seg.done = done
            self.open.remove(seg)
        if seg.op == 30:
            seg.raf_pending += good
            if seg.raf_pending and (seg.raf_pending >= rng.randint(10, 20) or done):
                expected.finished += seg.raf_pending
                self.emit(
                    "report_as_finished",
                    order=seg.order,
                    resource=2,
                    good=seg.raf_pending,
                    lot_number=f"{seg.order.number}-{expected.finished}",
                )
                seg.raf_pending = 0
            if done and seg.good:
                expected.manual += seg.good
                self.emit(
                    "consume_material",
                    order=seg.order,
                    resource=2,
                    material=self.s.bells[id(seg.order)],
                    quantity=D(seg.good),
                )

    def run_unit(self, unit: list[Segment]) -> None:
        self.check_time()
        if len(unit) > 1:
            for seg in unit:
                seg.input, seg.started = self.s.expected[id(seg.order)].quantity, True
            self.emit("bundle", jobs=[seg.job for seg in unit], resource=0)
            self.open = list(unit)
        while True:
            self.check_time()  # may stop (or, with a last report, complete) the open jobs
            pending = [seg for seg in unit if not seg.done]
            if not pending:
                break
            if not self.open:
                self.start(pending[0])
                continue
            seg = self.open[self.turn % len(self.open)]
            self.turn += 1
            self.report(seg)

    def run(self, orders) -> None:
        jobs = self.s.jobs
        position = 0
        while position < len(orders):
            order = orders[position]
            pair = position + 1 < len(orders) and self.rng.random() < 0.15
            batch = orders[position : position + (2 if pair else 1)]
            position += len(batch)
            if pair:  # operation 10 of both orders started together, as a bundle
                self.run_unit([Segment(o, 10, jobs[id(o)][10]) for o in batch])
            else:
                self.run_unit([Segment(order, 10, jobs[id(order)][10])])
            for o in batch:
                for op in (20, 30):
                    self.run_unit([Segment(o, op, jobs[id(o)][op])])
            if self.rng.random() < 0.2:
                self.check_time()
                self.indirect()
        self.interrupt()
        self.emit("clock_out")


def simulate(orders, jobs, bells, workers, quantity: int, seed: int) -> Shifts:
    shifts = Shifts(
        orders=orders, jobs=jobs, bells=bells, workers=workers, quantity=quantity, seed=seed
    )
    shifts.run()
    return shifts


def calibrate(target: int, n_orders: int, n_workers: int, seed: int) -> int:
    """The order quantity that makes the simulation post about `target` registrations."""
    orders = [SimpleNamespace(number=f"BR-{i:05d}") for i in range(n_orders)]
    jobs = {id(o): {op: SimpleNamespace(op=op) for op in OPERATIONS} for o in orders}
    bells = {id(o): None for o in orders}
    workers = [SimpleNamespace(index=i) for i in range(n_workers)]
    quantity = max(2, round((target / n_orders - 12) * 2 / 3 / 1.1))
    best = None
    for _ in range(6):
        rows = sum(p.rows for p in simulate(orders, jobs, bells, workers, quantity, seed).posts)
        if best is None or abs(rows - target) < abs(best[1] - target):
            best = (quantity, rows)
        if abs(rows - target) <= target * 0.01:
            break
        guess = max(2, round(quantity * target / rows))
        if guess == quantity:
            break
        quantity = guess
    return best[0]


# --- Stored registrations ----------------------------------------------------------------------


def posted_input(post: Post, plant):
    """The RegistrationInput the endpoint builds from the terminal's post."""
    from execution.services.registrations import RegistrationInput

    kind = post.kind
    return RegistrationInput(
        uuid=post.uuid,
        kind=kind,
        occurred_at=post.at,
        worker=post.worker,
        terminal=plant.terminals[post.resource],
        order=post.order,
        job=post.job,
        jobs=list(post.jobs or []),
        quantity=post.quantity,
        quantity_good=D(post.good),
        quantity_scrap=D(post.scrap),
        reason_code=plant.scrap_reason if post.scrap else None,
        stops_job=post.stops,
        completes_job=post.completes,
        absence_code=plant.absence if kind == "absence" else None,
        absence_minutes=D(post.absence_minutes),
        indirect_activity=plant.indirect if kind == "indirect_start" else None,
        lot_number=post.lot_number,
        material=post.material,
    )


def stored_rows(post: Post, plant):
    """The RawRegistration rows registration_accept stores for the post: what
    registration_check fills in, then the service's own _rows_for."""
    from execution.services.registrations import _rows_for

    data = posted_input(post, plant)
    data.resource = data.terminal.resource
    if data.job is not None:
        data.order = data.job.order
    if post.kind == "indirect_stop":
        data.indirect_activity = plant.indirect
    if post.kind == "report_as_finished" and post.good:
        data.location = plant.resources[post.resource].output_location
    rows = _rows_for(data, "terminal")
    if post.kind not in ("bundle",) and len(rows) != 1:
        raise AssertionError(f"{post.kind} at {post.at} would store {len(rows)} rows")
    return rows


def compare_rows(stored, built) -> list[str]:
    from execution.models import RawRegistration

    skip = {"id", "received_at"}
    problems = []
    by_uuid = {row.uuid: row for row in stored}
    for row in built:
        other = by_uuid.get(row.uuid)
        if other is None:
            problems.append(f"{row.kind} {row.uuid}: not stored by registration_accept")
            continue
        for f in RawRegistration._meta.concrete_fields:
            if f.attname in skip:
                continue
            mine, theirs = getattr(row, f.attname), getattr(other, f.attname)
            if mine != theirs:
                problems.append(
                    f"{row.kind} {row.uuid}: {f.attname} bench={mine!r} service={theirs!r}"
                )
    return problems


# --- Timing helpers ----------------------------------------------------------------------------


TABLE_RE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


def statement_label(sql: str) -> str:
    text = " ".join(sql.split())
    upper = text[:60].upper()
    for prefix in ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"):
        if upper.startswith(prefix):
            return prefix
    if "PG_TRY_ADVISORY" in upper:
        return "SELECT advisory lock"
    verb = upper.split(" ", 1)[0]
    if verb == "SELECT" and "FOR UPDATE" in text.upper():
        verb = "SELECT FOR UPDATE"
    match = TABLE_RE.search(text)
    return f"{verb} {match.group(1) if match else '?'}"


class StatementTimer:
    """A Django execute_wrapper: statements and database time per label and per registration."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.count = defaultdict(int)
        self.current = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            label = statement_label(sql)
            self.seconds[label] += time.perf_counter() - started
            self.count[label] += 1
            self.current += 1


@contextmanager
def timed_commits(connection, sink: dict):
    """Time COMMITs (they do not go through execute wrappers)."""
    original = connection._commit

    def commit():
        started = time.perf_counter()
        try:
            return original()
        finally:
            sink["commit"] += time.perf_counter() - started
            sink["commits"] += 1

    connection._commit = commit
    try:
        yield
    finally:
        connection._commit = original


# --- The processes -----------------------------------------------------------------------------


def child() -> None:
    """One processor: set up, say ready, wait for go, process until nothing is left."""
    import django

    django.setup()
    from django.db import DatabaseError, connection

    from execution.choices import RegistrationStatus
    from execution.models import RawRegistration
    from execution.services.processing import registrations_process

    connection.ensure_connection()
    RawRegistration.objects.exists()
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu = time.perf_counter(), time.process_time()
    totals = Counter()
    errors: list[str] = []
    idle = 0
    while True:
        try:
            summary = registrations_process()
        except DatabaseError as exc:  # what Celery would retry; counted, reported
            totals["database_errors"] += 1
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        totals["calls"] += 1
        totals["processed"] += summary.processed
        totals["failed"] += summary.failed
        if summary.processed or summary.failed:
            idle = 0
            continue
        held = RawRegistration.objects.filter(status=RegistrationStatus.FAILED).values("lane")
        left = (
            RawRegistration.objects.filter(status=RegistrationStatus.NEW)
            .exclude(lane__in=held)
            .exists()
        )
        if not left:
            break
        idle += 1
        totals["idle_polls"] += 1
        if idle > 3000:  # 30 s without progress while work is left: give up, report
            errors.append("gave up: registrations left that no call could process")
            break
        time.sleep(0.01)
    result = dict(totals)
    result.update(
        seconds=round(time.perf_counter() - started, 3),
        cpu_seconds=round(time.process_time() - cpu, 3),
        errors=errors[:5],
    )
    print(json.dumps(result), flush=True)


def run_processors(count: int, env: dict) -> tuple[float, list[dict]]:
    """Start `count` processors, release them at once, wait for all; wall seconds."""
    children = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(ROOT),
        )
        for _ in range(count)
    ]
    for proc in children:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            sys.exit(f"a processor did not start: {line!r}")
    started = time.perf_counter()
    for proc in children:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate()[0] for proc in children]
    seconds = time.perf_counter() - started
    results = []
    for proc, output in zip(children, outputs, strict=True):
        lines = [line for line in output.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            sys.exit(f"a processor failed (exit {proc.returncode}): {output[-2000:]}")
        results.append(json.loads(lines[-1]))
    return seconds, results


# --- Checks ------------------------------------------------------------------------------------


def verify(plant, expected_by_order: dict, kinds: Counter) -> tuple[list[str], dict]:
    """Every registration processed exactly once, and the orders add up. Returns the problems
    and a fingerprint (to compare runs)."""
    from django.db.models import Count, Q, Sum

    from execution.choices import LogbookKind, ProcessingOutcome, RegistrationStatus
    from execution.models import (
        GenealogyLink,
        Job,
        JobActivity,
        LogbookEntry,
        PickingListLine,
        ProcessingLogEntry,
        RawRegistration,
        ReportAsFinishedLine,
        RouteCardLine,
    )
    from inventory.choices import SourceType
    from inventory.models import InventoryTransaction
    from inventory.services import inventory_verify
    from orders.choices import OrderStatus
    from orders.models import ProductionOrder

    problems = []
    total = sum(kinds.values())
    status = dict(RawRegistration.objects.values_list("status").annotate(n=Count("id")).order_by())
    if status.get(RegistrationStatus.PROCESSED, 0) != total:
        problems.append(f"status counts {status}, expected {total} processed")
    for reg in RawRegistration.objects.exclude(status=RegistrationStatus.PROCESSED).order_by(
        "occurred_at"
    )[:10]:
        problems.append(
            f"  {reg.status} {reg.kind} {reg.lane} {reg.occurred_at:%Y-%m-%d %H:%M:%S} "
            f"[{reg.error_code}] {reg.error}"
        )

    def once(name, queryset, expected, column="registration_id"):
        rows = queryset.count()
        distinct = queryset.values(column).distinct().count()
        if rows != expected or distinct != expected:
            problems.append(f"{name}: {rows} rows, {distinct} distinct, expected {expected}")
        return rows

    once(
        "processing log (processed)",
        ProcessingLogEntry.objects.filter(outcome=ProcessingOutcome.PROCESSED),
        total,
    )
    once(
        "logbook (one per registration)",
        LogbookEntry.objects.exclude(kind=LogbookKind.TRANSITION),
        total,
    )
    once(
        "route card lines",
        RouteCardLine.objects.all(),
        sum(kinds[k] for k in FEEDBACK_KINDS),
    )
    once(
        "job activities",
        JobActivity.objects.all(),
        sum(kinds[k] for k in START_KINDS),
        column="start_registration_id",
    )
    once(
        "report as finished lines",
        ReportAsFinishedLine.objects.all(),
        kinds["report_as_finished"],
    )
    picking = PickingListLine.objects.count()
    receipts = ReportAsFinishedLine.objects.filter(inventory_transaction__isnull=False).count()
    # Stock rows (a location); reservation rows (relieved by the issues) are not journal lines.
    ledger = InventoryTransaction.objects.filter(
        source_type=SourceType.REGISTRATION, location__isnull=False
    ).count()
    if ledger != picking + receipts:
        problems.append(
            f"stock ledger rows {ledger} != picking lines {picking} + receipts {receipts}"
        )
    if PickingListLine.objects.values("inventory_transaction").distinct().count() != picking:
        problems.append("a ledger row is shared by two picking lines")
    open_activities = JobActivity.objects.filter(ended_at__isnull=True).count()
    if open_activities:
        problems.append(f"{open_activities} job activities still open")

    # Every order against the simulation.
    parts = {c.pk: part for part, c in plant.components.items()}
    consumed = defaultdict(dict)
    for row in PickingListLine.objects.values("order_id", "component_id").annotate(
        total=Sum("quantity")
    ):
        consumed[row["order_id"]][parts[row["component_id"]]] = row["total"]
    jobs = defaultdict(dict)
    for job in Job.objects.values(
        "order_id", "operation_number", "quantity_good", "quantity_scrapped", "quantity_started"
    ):
        jobs[job["order_id"]][job["operation_number"]] = job
    mismatches = Counter()
    examples = []
    statuses = Counter()
    for order in ProductionOrder.objects.filter(pk__in=expected_by_order).values(
        "id", "number", "status", "quantity_completed", "quantity_scrapped", "quantity_in_progress"
    ):
        exp = expected_by_order[order["id"]]
        scrap = sum(exp.scrap.values())
        statuses[order["status"]] += 1
        want_status = (
            OrderStatus.COMPLETED if exp.finished >= exp.quantity else OrderStatus.IN_PROGRESS
        )
        checks = {
            "completed": (order["quantity_completed"], exp.finished),
            "scrapped": (order["quantity_scrapped"], scrap),
            "in progress": (order["quantity_in_progress"], exp.quantity - scrap - exp.finished),
            "status": (order["status"], want_status),
            "FRAME (start)": (consumed[order["id"]].get("FRAME", 0), exp.quantity),
            "WHEEL (operation finish)": (
                consumed[order["id"]].get("WHEEL", 0),
                2 * (exp.good[20] + exp.scrap[20]),
            ),
            "GRIP (production finish)": (consumed[order["id"]].get("GRIP", 0), 2 * exp.finished),
            "BELL (manual)": (consumed[order["id"]].get("BELL", 0), exp.manual),
        }
        for op in OPERATIONS:
            job = jobs[order["id"]][op]
            checks[f"job {op} good"] = (job["quantity_good"], exp.good[op])
            checks[f"job {op} scrap"] = (job["quantity_scrapped"], exp.scrap[op])
            # Material flows down the route: a later operation starts what the one before
            # output as good.
            started = exp.quantity if op == OPERATIONS[0] else exp.good[op - 10]
            checks[f"job {op} started"] = (job["quantity_started"], started)
        for name, (got, want) in checks.items():
            if got != want:
                mismatches[name] += 1
                if len(examples) < 8:
                    examples.append(f"  {order['number']} {name}: got {got}, expected {want}")
    for name, n in mismatches.items():
        problems.append(f"{n} order(s) differ from the simulation in {name}")
    problems.extend(examples)
    report = inventory_verify()
    if not report.ok:
        problems.append(f"inventory_verify: {report}")
    fingerprint = {
        "status": {str(k): v for k, v in status.items()},
        "orders": {str(k): v for k, v in sorted(statuses.items())},
        "route_card_lines": RouteCardLine.objects.count(),
        "route_card_minutes": str(RouteCardLine.objects.aggregate(m=Sum("minutes"))["m"]),
        "picking_lines": picking,
        "picking_quantity": str(PickingListLine.objects.aggregate(q=Sum("quantity"))["q"]),
        "report_as_finished_lines": ReportAsFinishedLine.objects.count(),
        "genealogy_links": GenealogyLink.objects.count(),
        "logbook": LogbookEntry.objects.count(),
        "transitions": LogbookEntry.objects.filter(Q(kind=LogbookKind.TRANSITION)).count(),
    }
    return problems, fingerprint


# --- Bare inserts ------------------------------------------------------------------------------


def bare_inserts(url: str, before: dict, after: dict) -> dict:
    """Read back the rows processing inserted and insert them bare into scratch copies."""
    import psycopg
    from psycopg.types.json import Jsonb

    grown = {
        t: after[t].count - before[t].count
        for t in after
        if t in before and after[t].count > before[t].count
    }
    data = {}
    with psycopg.connect(url) as conn:
        for table in grown:
            state = before[table]
            if state.pk is None:
                print(f"    (skipped {table}: no integer primary key)")
                continue
            cursor = conn.execute(
                f'SELECT * FROM "{table}" WHERE "{state.pk}" > %s ORDER BY "{state.pk}"',
                [state.max_pk or 0],
            )
            columns = [d.name for d in cursor.description]
            json_columns = [
                i for i, d in enumerate(cursor.description) if d.type_code in (114, 3802)
            ]
            rows = cursor.fetchall()
            if json_columns:
                rows = [
                    tuple(
                        Jsonb(v) if i in json_columns and v is not None else v
                        for i, v in enumerate(r)
                    )
                    for r in rows
                ]
            data[table] = (columns, rows)
        conn.commit()
        names = {table: f"bench_bare_{i}" for i, table in enumerate(data)}
        for table, name in names.items():
            conn.execute(f'DROP TABLE IF EXISTS "{name}_copy", "{name}_insert"')
            conn.execute(f'CREATE TABLE "{name}_copy" (LIKE "{table}" INCLUDING DEFAULTS)')
            conn.execute(f'CREATE TABLE "{name}_insert" (LIKE "{table}" INCLUDING ALL)')
        conn.commit()

        started = time.perf_counter()
        with conn.cursor() as cursor:
            for table, (columns, rows) in data.items():
                column_list = ", ".join(f'"{c}"' for c in columns)
                copy_sql = f'COPY "{names[table]}_copy" ({column_list}) FROM STDIN'
                with cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
        copy_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with conn.cursor() as cursor:
            for table, (columns, rows) in data.items():
                column_list = ", ".join(f'"{c}"' for c in columns)
                values = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f'INSERT INTO "{names[table]}_insert" ({column_list}) VALUES ({values})', rows
                )
        conn.commit()
        insert_seconds = time.perf_counter() - started
        for name in names.values():
            conn.execute(f'DROP TABLE "{name}_copy", "{name}_insert"')
        conn.commit()
    return {
        "rows": {t: len(rows) for t, (_c, rows) in data.items()},
        "copy_seconds": copy_seconds,
        "insert_seconds": insert_seconds,
    }


# --- In-process sample -------------------------------------------------------------------------


def sample_lanes(
    posts: list[Post], count: int, rng: random.Random, exclude: set[str] = frozenset()
) -> list[str]:
    """Whole lanes: some orders and some workers' attendance, about `count` registrations."""
    order_rows, worker_rows = Counter(), Counter()
    for post in posts:
        if post.kind in ("bundle",):
            for job in post.jobs:
                order_rows[job.order.pk] += 1
        elif post.job is not None:
            order_rows[post.job.order.pk] += 1
        elif post.order is not None:
            order_rows[post.order.pk] += 1
        else:
            worker_rows[post.worker.pk] += 1
    share = sum(worker_rows.values()) / max(1, sum(order_rows.values()) + sum(worker_rows.values()))
    lanes, rows = [], 0
    order_ids = [o for o in order_rows if f"order:{o}" not in exclude]
    worker_ids = [w for w in worker_rows if f"worker:{w}" not in exclude]
    rng.shuffle(order_ids)
    rng.shuffle(worker_ids)
    attendance = 0
    while rows < count and (order_ids or worker_ids):
        if worker_ids and (attendance < share * (rows + 1) or not order_ids):
            worker = worker_ids.pop()
            lanes.append(f"worker:{worker}")
            rows += worker_rows[worker]
            attendance += worker_rows[worker]
        else:
            order = order_ids.pop()
            lanes.append(f"order:{order}")
            rows += order_rows[order]
    return lanes


def process_sample(lanes: list[str], *, timer: StatementTimer | None = None) -> dict:
    """Process every registration of the lanes in-process, in event-time order."""
    from django.db import connection

    from execution.choices import ProcessingOutcome, RegistrationStatus
    from execution.models import RawRegistration
    from execution.services.processing import registration_process_one

    todo = list(
        RawRegistration.objects.filter(lane__in=lanes, status=RegistrationStatus.NEW)
        .order_by("occurred_at", "pk")
        .values_list("pk", "kind", "lane")
    )
    # registrations_process hands the lane over (no lookup); do the same where it can.
    takes_lane = "lane" in inspect.signature(registration_process_one).parameters
    per_kind = defaultdict(lambda: {"count": 0, "statements": 0, "seconds": 0.0})
    outcomes = Counter()
    commits = defaultdict(float)
    started = time.perf_counter()
    with (
        connection.execute_wrapper(timer) if timer else nullcontext(),
        timed_commits(connection, commits),
    ):
        for pk, kind, lane in todo:
            if timer:
                timer.current = 0
            t0 = time.perf_counter()
            if takes_lane:
                outcome = registration_process_one(pk=pk, lane=lane)
            else:
                outcome = registration_process_one(pk=pk)
            elapsed = time.perf_counter() - t0
            outcomes[outcome] += 1
            entry = per_kind[kind]
            entry["count"] += 1
            entry["seconds"] += elapsed
            if timer:
                entry["statements"] += timer.current
    seconds = time.perf_counter() - started
    if outcomes.get(ProcessingOutcome.PROCESSED, 0) != len(todo):
        print(f"    sample outcomes: {dict(outcomes)}")
    return {"count": len(todo), "seconds": seconds, "per_kind": per_kind, "commits": commits}


# --- Main --------------------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, and whether the checkout differs from it (read-only git)."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--"], check=False).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}"


def rate(count: float, seconds: float, unit: str) -> str:
    return f"{count / seconds:>9,.0f} {unit}/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=100_000, help="about this many")
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--workers", default="1,2", help="processor counts, e.g. 1,2")
    parser.add_argument(
        "--validate", type=int, default=None, help="posts through the service (default 500)"
    )
    parser.add_argument(
        "--sample", type=int, default=None, help="registrations in-process (default 500)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile another sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep-template", action="store_true", help="keep <database>_template (unprocessed)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return

    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL (the bench runs on PostgreSQL)")
    name = database_name(url)
    template = f"{name}_template"
    counts = [int(k) for k in args.workers.split(",") if k.strip()]
    # Quick runs validate and sample less (down to a tenth of the registrations).
    small = max(100, args.registrations // 10)
    args.validate = min(500, small) if args.validate is None else args.validate
    args.sample = min(500, small) if args.sample is None else args.sample
    var_dir = tempfile.mkdtemp(prefix="mes_bench_reg_")
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="mesproject.settings.base",
        MES_PROCESSOR_NUDGE="0",
        # The simulated shifts lie days back, stored at once as a plant's history: the door's
        # backdating window (docs/execution.md) would refuse the sample posted through it.
        MES_REGISTRATION_BACKDATING_HOURS="0",
        MES_VAR_DIR=var_dir,  # the file cache and broker folders of this run, not the checkout's
    )
    try:
        run(args, url, name, template, counts)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, url: str, name: str, template: str, counts: list[int]) -> None:
    phase = {}
    t0 = time.perf_counter()
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from execution.choices import JobKind
    from execution.models import Job, RawRegistration
    from execution.services.registrations import registration_accept
    from orders import services as order_services
    from orders.models import ProductionOrderMaterial

    call_command("migrate", verbosity=0)
    phase["migrate"] = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]

    n_orders = args.orders
    n_workers = max(2, -(-n_orders // 10))
    t0 = time.perf_counter()
    quantity = calibrate(args.registrations, n_orders, n_workers, args.seed)
    phase["calibrate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    plant = build_plant(n_workers, stock_per_part=n_orders * quantity + 100)
    orders = []
    for i in range(n_orders):
        order = order_services.production_order_create(
            number=f"BR-{i:05d}", item=plant.product, quantity=D(quantity), site=plant.site
        )
        orders.append(order_lifecycle.order_release(order=order))
    phase["plant and orders"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    order_by_id = {o.pk: o for o in orders}
    jobs = defaultdict(dict)
    for job in Job.objects.filter(kind=JobKind.PROCESS).select_related(
        "order__unit", "order__item", "resource"
    ):
        job.order = order_by_id.get(job.order_id, job.order)
        jobs[id(job.order)][job.operation_number] = job
    bell = plant.components["BELL"]
    bells = {
        id(order_by_id[m.order_id]): m
        for m in ProductionOrderMaterial.objects.filter(component=bell).select_related(
            "component__unit"
        )
    }
    shifts = simulate(orders, jobs, bells, plant.workers, quantity, args.seed)
    posts = shifts.posts
    expected = {order.pk: shifts.expected[id(order)] for order in orders}
    kinds = Counter()
    for post in posts:
        kinds[post.kind] += post.rows
    total = sum(kinds.values())
    phase["simulate"] = time.perf_counter() - t0

    # Store: the sample through registration_accept, the rest in bulk, the sample last.
    t0 = time.perf_counter()
    rng = random.Random(args.seed + 1)
    # Whole workers' posts, about --validate of them: the door judges a registration against
    # the same worker's later ones, so a worker's posts go through it all or not at all.
    by_worker = defaultdict(list)
    for index, post in enumerate(posts):
        by_worker[post.worker.pk].append(index)
    sample_index = set()
    for pk in rng.sample(sorted(by_worker), len(by_worker)):
        if len(sample_index) >= min(args.validate, len(posts)):
            break
        sample_index.update(by_worker[pk])
    bulk = []
    for index, post in enumerate(posts):
        if index not in sample_index:
            bulk.extend(stored_rows(post, plant))
    RawRegistration.objects.bulk_create(bulk, batch_size=2000)
    phase["store (bulk_create)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    built, refused = [], []
    for index in sorted(sample_index):
        post = posts[index]
        try:
            rows = stored_rows(post, plant)  # before: a start's default counts pending starts
        except AssertionError:
            if refused:  # a refused post left the floor elsewhere than the simulation
                sys.exit("registration_accept refused:\n" + "\n".join(refused[:5]))
            raise
        try:
            registration_accept(data=posted_input(post, plant), source="terminal")
        except Exception as exc:  # a refusal: the simulation posted something the floor can't
            refused.append(f"{post.kind} {post.at:%Y-%m-%d %H:%M:%S}: {exc}")
        else:
            built.extend(rows)
    phase[f"store ({len(sample_index)} posts via registration_accept)"] = time.perf_counter() - t0
    stored = RawRegistration.objects.filter(uuid__in=[row.uuid for row in built])
    differences = compare_rows(list(stored), built)
    stored_total = RawRegistration.objects.count()

    version = code_version()
    python_us = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(
        f"PostgreSQL {server}, synchronous_commit={sync_commit}, {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f}, Python sum(range(1000)) {python_us:.0f} us); "
        f"{total:,} registrations (asked {args.registrations:,}), {n_orders:,} orders of "
        f"{quantity} pcs, {n_workers} workers, 3 operations; code {version}"
    )
    print()
    print("setup (not timed):")
    for label, seconds in phase.items():
        print(f"    {label:<48} {seconds:8.1f} s")
    print()
    print("registrations by kind:")
    for kind, n in kinds.most_common():
        print(f"    {kind:<22} {n:>9,}  {100 * n / total:5.1f} %")
    print(
        f"validation: {len(sample_index)} posts through registration_accept, "
        f"{len(refused)} refused, {len(differences)} field differences from the bulk rows"
    )
    for line in (refused + differences)[:10]:
        print(f"    {line}")
    if stored_total != total:
        print(f"    stored {stored_total:,} rows, expected {total:,}")

    # The in-process sample (on this copy; every timed run starts from the template).
    connections.close_all()
    copy_as_template(url, template)
    lanes_rng = random.Random(args.seed + 2)
    lanes = sample_lanes(posts, args.sample, lanes_rng)
    timer = StatementTimer()
    sample = process_sample(lanes, timer=timer)
    profile_text = None
    if args.profile:
        import cProfile
        import io
        import pstats

        more = sample_lanes(posts, args.sample, lanes_rng, exclude=set(lanes))
        profiler = cProfile.Profile()
        profiler.enable()
        profiled = process_sample(more)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        profile_text = (profiled, stream.getvalue())
    connections.close_all()

    # The timed runs.
    env = dict(os.environ)
    results = {}
    before = after = None
    bare = None
    fingerprints = {}
    for count in counts:
        recreate_database(url, template=template)
        if before is None:
            before = table_states(url)
        load_before = os.getloadavg()[0]
        seconds, children = run_processors(count, env)
        load = (load_before, os.getloadavg()[0])
        problems, fingerprint = verify(plant, expected, kinds)
        connections.close_all()
        results[count] = {
            "seconds": seconds,
            "children": children,
            "problems": problems,
            "load": load,
        }
        fingerprints[count] = fingerprint
        if bare is None:
            after = table_states(url)
            bare = bare_inserts(url, before, after)
        connections.close_all()
    if not args.keep_template:
        drop_database(url, template)

    # --- Report ---
    base = results[counts[0]]["seconds"]
    print()
    print(f"processing {total:,} registrations (wall time, all processors released at once):")
    for count in counts:
        r = results[count]
        per = "; ".join(
            f"{c.get('processed', 0):,} in {c.get('calls', 0)} calls, "
            f"{c.get('idle_polls', 0)} idle polls, cpu {c['cpu_seconds']:.0f} s"
            for c in r["children"]
        )
        print(
            f"    {count} process{'es' if count > 1 else '  '}  {rate(total, r['seconds'], 'reg')}"
            f"  {r['seconds']:8.1f} s  x{base / r['seconds']:4.2f}  "
            f"load {r['load'][0]:.1f}->{r['load'][1]:.1f}  [{per}]"
        )
    written = sum(bare["rows"].values())
    print()
    print(f"rows the processor inserted: {written:,} ({written / total:.1f} per registration)")
    for table, n in sorted(bare["rows"].items(), key=lambda kv: -kv[1]):
        print(f"    {table:<44} {n:>9,}  {n / total:5.2f} per registration")
    print()
    print("bare bulk insert of the same rows, one transaction:")
    for label, seconds in (
        ("COPY, copies without indexes", bare["copy_seconds"]),
        ("INSERT executemany, copies with indexes", bare["insert_seconds"]),
    ):
        print(
            f"    {label:<42} {rate(written, seconds, 'rows')}  "
            f"{rate(total, seconds, 'reg')}  {seconds:7.2f} s"
        )
    print()
    for count in counts:
        seconds = results[count]["seconds"]
        print(
            f"ratio processing ({count} proc) : bare COPY   "
            f"{seconds / bare['copy_seconds']:7.1f} : 1     : bare INSERT  "
            f"{seconds / bare['insert_seconds']:6.1f} : 1"
        )

    # Statements per registration.
    n = sample["count"]
    statements = sum(timer.count.values())
    commits = sample["commits"]
    print()
    print(
        f"statements per registration (in-process sample of {n:,} from {len(lanes)} whole lanes,"
        f" {n / sample['seconds']:,.0f} reg/s): {statements / n:.1f} + "
        f"{commits['commits'] / n:.1f} COMMIT"
    )
    weighted_q = weighted_ms = 0.0
    covered = 0
    for kind, entry in sorted(sample["per_kind"].items(), key=lambda kv: -kinds[kv[0]]):
        q = entry["statements"] / entry["count"]
        ms = entry["seconds"] / entry["count"] * 1000
        weighted_q += q * kinds[kind]
        weighted_ms += ms * kinds[kind]
        covered += kinds[kind]
        print(f"    {kind:<22} {entry['count']:>6,} regs  {q:6.1f} statements  {ms:7.2f} ms")
    if covered:
        print(
            f"    {'weighted by the run':<22} {'':>11}  {weighted_q / covered:6.1f} statements  "
            f"{weighted_ms / covered:7.2f} ms"
        )
    per = sample["seconds"] / n * 1e6
    print()
    print(f"where a registration spends its {per:,.0f} us (in-process sample):")
    accounted = 0.0
    for label, seconds in sorted(timer.seconds.items(), key=lambda kv: -kv[1])[:22]:
        share = seconds / n * 1e6
        accounted += share
        print(f"    {label:<52} {share:7.0f} us  ({timer.count[label] / n:.2f} per reg)")
    rest = sum(timer.seconds.values()) / n * 1e6 - accounted
    accounted += rest
    print(f"    {'(other statements)':<52} {rest:7.0f} us")
    commit_us = commits["commit"] / n * 1e6
    accounted += commit_us
    print(f"    {'COMMIT':<52} {commit_us:7.0f} us")
    print(f"    {'Python (Django, services, flushing)':<52} {per - accounted:7.0f} us")
    if profile_text:
        profiled, text = profile_text
        print()
        print(f"cProfile, {profiled['count']:,} more registrations in-process, top 25 cumulative:")
        print(text)

    print()
    same = all(fingerprints[c] == fingerprints[counts[0]] for c in counts)
    for count in counts:
        problems = results[count]["problems"]
        state = "OK" if not problems else f"{len(problems)} PROBLEM(S)"
        print(f"checks after {count} process(es): {state}")
        for line in problems[:20]:
            print(f"    {line}")
    print(f"same results whatever the process count: {'yes' if same else 'NO'}")
    if not same:
        for count in counts:
            print(f"    {count}: {json.dumps(fingerprints[count], sort_keys=True)}")
    figures = {
        "bench": "registrations",
        "code": version,
        "registrations": total,
        "orders": n_orders,
        "order_quantity": quantity,
        "workers": n_workers,
        "postgres": server,
        "synchronous_commit": sync_commit,
        "cpus": os.cpu_count(),
        "python_sum_range_1000_us": round(python_us, 1),
        "processing": {
            str(c): {
                "seconds": round(results[c]["seconds"], 2),
                "registrations_per_s": round(total / results[c]["seconds"], 1),
                "ok": not results[c]["problems"],
                "load_average": [round(x, 1) for x in results[c]["load"]],
                "cpu_seconds": [child["cpu_seconds"] for child in results[c]["children"]],
            }
            for c in counts
        },
        "rows_written": written,
        "bare_copy_seconds": round(bare["copy_seconds"], 3),
        "bare_insert_seconds": round(bare["insert_seconds"], 3),
        "ratio_processing_to_copy": round(base / bare["copy_seconds"], 1),
        "ratio_processing_to_insert": round(base / bare["insert_seconds"], 1),
        "statements_per_registration": round(statements / n, 1),
        "statements_per_registration_weighted": round(weighted_q / covered, 1) if covered else None,
        "in_process_ms_per_registration": round(sample["seconds"] / n * 1000, 2),
        "same_results": same,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
