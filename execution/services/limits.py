"""How much the floor may report: the quantity limits a registration is judged by at the door.

Material flows down the route: the first operation may start the order quantity plus its
over-delivery tolerance, each later operation what the one before it output as good, a job
reports (good + scrap) at most what is in progress on it, and report as finished takes what
the last operation output. Every figure counts the registrations already accepted, processed
or not (a terminal posts "start" and "progress" seconds apart, long before the processor
runs); canceled ones and corrected ones count for nothing.

A registration is judged at its own time and against what came after it: starting 10 at
08:00 and reporting 10 at 08:30 leaves nothing to report at 08:15, even if more is started
at 09:00. So a limit is the lowest balance from the registration's time on (the headroom),
not the balance at the end.

Quantities are in the order's unit. docs/execution.md has the rule table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, Sum

from inventory.fields import ZERO, show
from inventory.models import OnHand
from inventory.services import negative_stock_allowed
from mesproject.actors import SYSTEM
from orders.models import ProductionOrder

from .. import flushing
from ..choices import JOB_START_KINDS, JobKind, RegistrationKind, RegistrationStatus
from ..models import Job, RawRegistration
from .order_work import OrderWork

K = RegistrationKind
OUTPUT_KINDS = (K.REPORT_PROGRESS, K.REPORT_SCRAP)
# Judge a registration placed after everything accepted so far.
NOW = None


@dataclass(frozen=True)
class Flow:
    """One registration's share of a job's or order's material flow."""

    at: datetime
    pk: int
    kind: str
    job_id: int | None
    started: Decimal
    good: Decimal
    scrap: Decimal


@dataclass(frozen=True)
class JobLimits:
    """What may still be registered on a job."""

    startable: Decimal  # may still be started here
    reportable: Decimal  # good + scrap that may still be reported: what is in progress
    rest: Decimal  # the default start: the job's plan not yet started, within startable
    started: Decimal  # started so far, processed or not


# A setup job takes no quantity.
NOTHING = JobLimits(startable=ZERO, reportable=ZERO, rest=ZERO, started=ZERO)


def counted(queryset):
    """Registrations that count in the flow: not canceled, not undone by a correction (one
    asked counts already: what it takes back is spoken for, as correction_checks.py judges it)."""
    return queryset.exclude(status=RegistrationStatus.CANCELED).exclude(
        Exists(
            RawRegistration.objects.filter(corrects=OuterRef("pk")).exclude(
                status=RegistrationStatus.CANCELED
            )
        )
    )


def _flows(condition: Q) -> list[Flow]:
    rows = (
        counted(RawRegistration.objects.filter(condition))
        .order_by("occurred_at", "pk")
        .values_list(
            "occurred_at", "pk", "kind", "job_id", "quantity", "quantity_good", "quantity_scrap"
        )
    )
    flows = []
    for at, pk, kind, job_id, quantity, good, scrap in rows:
        started = quantity if kind in JOB_START_KINDS else ZERO
        flows.append(Flow(at, pk, kind, job_id, started, good, scrap))
    return flows


def headroom(changes: Iterable[tuple[datetime, Decimal]], at: datetime | None) -> Decimal:
    """What a new registration at `at` (NOW: after everything) may take without making the
    balance negative at its own time or at any later point: the lowest running balance from
    `at` on, never below zero. `changes` are (time, signed quantity); at equal times what
    adds comes first, and what is already there comes before the new registration."""
    ordered = sorted(changes, key=lambda change: (change[0], -change[1]))
    balance = sum((c for when, c in ordered if at is NOW or when <= at), ZERO)
    lowest = balance
    if at is not NOW:
        for when, change in ordered:
            if when > at:
                balance += change
                lowest = min(lowest, balance)
    return max(ZERO, lowest)


def process_jobs(order: ProductionOrder) -> list[Job]:
    """The order's process jobs, in route order."""
    return list(order.jobs.filter(kind=JobKind.PROCESS).order_by("operation_number"))


def last_operations(order_ids) -> dict[int, int]:
    """The last process operation number of each order: where report as finished is made."""
    rows = (
        Job.objects.filter(order_id__in=order_ids, kind=JobKind.PROCESS)
        .values("order_id")
        .annotate(last=Max("operation_number"))
    )
    return {row["order_id"]: row["last"] for row in rows}


def _previous(job: Job, jobs: list[Job]) -> Job | None:
    before = [j for j in jobs if j.operation_number < job.operation_number]
    return before[-1] if before else None


def job_limits(*, job: Job, at: datetime | None = NOW) -> JobLimits:
    """What may still be started on and reported from a job, judged at `at` (default: now,
    against everything accepted)."""
    if job.kind != JobKind.PROCESS:
        return NOTHING
    previous = _previous(job, process_jobs(job.order))
    ids = [job.pk] + ([previous.pk] if previous else [])
    flows = _flows(Q(job_id__in=ids, kind__in=(*JOB_START_KINDS, *OUTPUT_KINDS)))
    return _job_limits(job, previous.pk if previous else None, flows, at)


def jobs_limits(*, jobs: Iterable[Job], at: datetime | None = NOW) -> dict[int, JobLimits]:
    """job_limits of many jobs (their orders loaded) in two queries, by job id: for lists."""
    jobs = list(jobs)
    process = [job for job in jobs if job.kind == JobKind.PROCESS]
    route: dict[int, list[tuple[int, int]]] = defaultdict(list)  # order -> (operation, job)
    rows = Job.objects.filter(order_id__in={job.order_id for job in process}, kind=JobKind.PROCESS)
    for pk, order_id, operation in rows.values_list("pk", "order_id", "operation_number"):
        route[order_id].append((operation, pk))
    previous: dict[int, int | None] = {}
    for job in process:
        before = sorted(o for o in route[job.order_id] if o[0] < job.operation_number)
        previous[job.pk] = before[-1][1] if before else None
    ids = {job.pk for job in process} | {pk for pk in previous.values() if pk}
    by_job: dict[int, list[Flow]] = defaultdict(list)
    if ids:
        for flow in _flows(Q(job_id__in=ids, kind__in=(*JOB_START_KINDS, *OUTPUT_KINDS))):
            by_job[flow.job_id].append(flow)
    found = {job.pk: NOTHING for job in jobs}
    for job in process:
        before = previous[job.pk]
        flows = by_job[job.pk] + (by_job[before] if before else [])
        found[job.pk] = _job_limits(job, before, flows, at)
    return found


def _job_limits(
    job: Job, previous_id: int | None, flows: list[Flow], at: datetime | None
) -> JobLimits:
    """The rule: flows are the registrations of the job and of its previous process job."""
    here = [f for f in flows if f.job_id == job.pk]
    started = sum((f.started for f in here), ZERO)
    if previous_id is None:
        startable = max(ZERO, job.order.max_completed_quantity - started)
    else:
        # What the operation before output as good, less what was started here.
        changes = [(f.at, f.good) for f in flows if f.job_id == previous_id and f.good]
        changes += [(f.at, -f.started) for f in here if f.started]
        startable = headroom(changes, at)
    in_progress = [(f.at, f.started - f.good - f.scrap) for f in here]
    reportable = headroom(in_progress, at)
    rest = min(startable, max(ZERO, job.planned_quantity - started))
    return JobLimits(startable=startable, reportable=reportable, rest=rest, started=started)


def finishable(*, order: ProductionOrder, at: datetime | None = NOW) -> tuple[Decimal, Decimal]:
    """(good + scrap, good) that may still be reported as finished on the order: what its last
    operation output as good and was not reported as finished yet, and never more good than
    the order quantity plus its tolerance. An order without operations reports from itself."""
    jobs = process_jobs(order)
    last = jobs[-1] if jobs else None
    condition = Q(order_id=order.pk, kind=K.REPORT_AS_FINISHED)
    if last is not None:
        condition |= Q(job_id=last.pk, kind__in=OUTPUT_KINDS)
    flows = _flows(condition)
    finished = [f for f in flows if f.kind == K.REPORT_AS_FINISHED]
    finished_good = sum((f.good for f in finished), ZERO)
    finished_all = sum((f.good + f.scrap for f in finished), ZERO)
    cap = order.max_completed_quantity
    if last is None:
        total = max(ZERO, cap - finished_all)
    else:
        changes = [(f.at, f.good) for f in flows if f.job_id == last.pk and f.good]
        changes += [(f.at, -(f.good + f.scrap)) for f in finished]
        total = headroom(changes, at)
    return total, min(total, max(ZERO, cap - finished_good))


def returnable(*, material) -> Decimal:
    """What may be returned on an order's material line: what was consumed on it (by flushing
    and by hand), with the consumptions and returns accepted and not processed yet."""
    state = getattr(material, "consumption_state", None)
    consumed = state.consumed + state.manual_consumed if state is not None else ZERO
    pending = (
        RawRegistration.objects.filter(material=material, kind=K.CONSUME_MATERIAL)
        .filter(status__in=(RegistrationStatus.NEW, RegistrationStatus.FAILED))
        .values_list("quantity", flat=True)
    )
    return max(ZERO, consumed + sum(pending, ZERO))


# --- Stock at the door -----------------------------------------------------------------------


def _on_hand(item, location, lot_number: str = "") -> Decimal:
    rows = OnHand.objects.filter(item=item, location=location)
    if lot_number:
        rows = rows.filter(lot__number=lot_number)
    return rows.aggregate(total=Sum("quantity"))["total"] or ZERO


def _shortage(material, location, quantity: Decimal, lot_number: str = "") -> str | None:
    component = material.component
    if negative_stock_allowed(component, location):
        return None
    available = _on_hand(component, location, lot_number)
    if available >= quantity:
        return None
    return (
        f"{component.part_number} needs {show(quantity)} at {location}, "
        f"{show(max(available, ZERO))} on hand"
    )


def start_shortages(*, job: Job, quantity: Decimal, started: Decimal) -> list[str]:
    """What a start would take that is not on hand: the flushing engine's start consumption,
    run without posting. `started` counts the starts accepted so far; those not processed yet
    have not consumed their material either, so it is asked for them too."""
    if not settings.MES_POST_INVENTORY or quantity <= 0 or job.kind != JobKind.PROCESS:
        return []
    work = OrderWork(order=job.order, actor=SYSTEM)
    data = work._load_materials()
    if not data["lines"]:
        return []
    event = flushing.Start(
        started=work.to_parent(quantity),
        cumulative_started=work.to_parent(started + quantity),
        operation_number=job.operation_number,
    )
    result = flushing.flush(
        order=data["context"], lines=data["lines"], states=data["states"], event=event
    )
    shortages = []
    for consumption in result.consumptions:
        material = data["by_id"][consumption.line_id]
        short = _shortage(material, work.consumption_location(material), consumption.quantity)
        if short:
            shortages.append(short)
    return shortages


def consumption_shortage(*, material, quantity: Decimal, location, lot_number: str) -> str | None:
    """A manual consumption of `quantity` on a line: what is missing where it is taken."""
    if not settings.MES_POST_INVENTORY or quantity <= 0:
        return None
    work = OrderWork(order=material.order, actor=SYSTEM)
    work.take_from = location
    return _shortage(material, work.consumption_location(material), quantity, lot_number)
