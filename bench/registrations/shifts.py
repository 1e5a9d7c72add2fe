"""The simulated shifts: what the floor posts, worker by worker, and what the orders must
show afterwards.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from .config import OPERATIONS, D


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
