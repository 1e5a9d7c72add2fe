"""The raw-registration processor: stored registrations become journals, inventory postings,
order quantities, logbook entries and automatic order transitions.

Order of work: registrations are processed per lane (an order, or a worker's attendance) in
event-time order. Each one is processed in its own transaction, which also marks it
processed, so a worker killed mid-batch leaves every registration either fully applied or
still new. A registration that fails is marked failed (its transaction rolled back to a
savepoint) and holds the later ones of its lane until a supervisor processes it again or
cancels it; other lanes go on.

Two processors at once: on PostgreSQL a transaction-scoped advisory lock per lane keeps a
lane to one processor at a time, and the registration row is claimed with
SELECT ... FOR UPDATE SKIP LOCKED; on SQLite every write transaction is exclusive anyway.
Under both, the "still new, and the head of its lane" check runs inside the transaction,
and a unique constraint on the source registration of every journal line stops a double.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.choices import SourceType, Tracking
from inventory.exceptions import InsufficientStock
from inventory.fields import ZERO, show
from inventory.models import Location, Lot, OnHand
from inventory.services import MovementInput, Source
from mesproject.errors import ApplicationError, MissingMasterData
from mesproject.locks import lock_row
from orders.models import ProductionOrder, Resource
from orders.services import Actor

from .. import flushing
from ..choices import (
    JobKind,
    JobStatus,
    LogbookKind,
    ProcessingOutcome,
    RegistrationKind,
    RegistrationStatus,
)
from ..models import (
    Job,
    JobActivity,
    LogbookEntry,
    MaterialLineState,
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from ..signals import registration_processed
from .genealogy import genealogy_link
from .jobs import lock_orders_waiting_at
from .materials import order_parent_quantity, order_reference
from .nudge import processor_nudge_clear
from .order_quantities import order_record_quantities

logger = logging.getLogger(__name__)

K = RegistrationKind
PROCESSOR = Actor(process="registration-processor")
MINUTE_PLACES = Decimal("0.01")


@dataclass
class ProcessingSummary:
    processed: int = 0
    failed: int = 0
    held_lanes: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return (
            f"{self.processed} processed, {self.failed} failed, {len(self.held_lanes)} lane(s) held"
        )


# --- Claiming ---------------------------------------------------------------------------------


def _lock_lane(lane: str) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: write transactions are exclusive already
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [lane])
        return cursor.fetchone()[0]


def _earlier_in_lane(registration: RawRegistration):
    return RawRegistration.objects.filter(
        lane=registration.lane,
        status__in=(RegistrationStatus.NEW, RegistrationStatus.FAILED),
    ).filter(
        Q(occurred_at__lt=registration.occurred_at)
        | Q(occurred_at=registration.occurred_at, pk__lt=registration.pk)
    )


def _candidates(limit: int) -> list[tuple[int, str]]:
    """The oldest pending registrations of lanes no failure holds, in event-time order across
    lanes too: one order's semi-finished goods reported as finished before another order
    consumes them are processed in that order."""
    held = RawRegistration.objects.filter(status=RegistrationStatus.FAILED).values("lane")
    return list(
        RawRegistration.objects.filter(status=RegistrationStatus.NEW)
        .exclude(lane__in=held)
        .order_by("occurred_at", "pk")
        .values_list("pk", "lane")[:limit]
    )


def registrations_process(
    *,
    batch: int = 500,
    limit: int | None = None,
    actor: Actor = PROCESSOR,
    on_progress: Callable[[int, int], None] | None = None,
) -> ProcessingSummary:
    """Process what is pending, batch after batch, until nothing more can go (or `limit`).

    on_progress(done, total) is called after each registration processed or failed; total is
    what was waiting when the run began (or done, once more arrived meanwhile).
    """
    processor_nudge_clear()
    summary = ProcessingSummary()
    total = (
        RawRegistration.objects.filter(status=RegistrationStatus.NEW).count() if on_progress else 0
    )
    while limit is None or summary.processed + summary.failed < limit:
        progressed = False
        skipped: set[str] = set()
        for pk, lane in _candidates(batch):
            if lane in skipped or lane in summary.held_lanes:
                continue
            outcome = registration_process_one(pk=pk, lane=lane, actor=actor)
            if outcome == ProcessingOutcome.PROCESSED:
                summary.processed += 1
                progressed = True
            elif outcome == ProcessingOutcome.FAILED:
                summary.failed += 1
                summary.held_lanes.add(lane)
                progressed = True
            else:
                skipped.add(lane)  # busy elsewhere, or an earlier one must go first
            if on_progress is not None and outcome is not None:
                done = summary.processed + summary.failed
                on_progress(done, max(total, done))
            if limit is not None and summary.processed + summary.failed >= limit:
                break
        if not progressed:
            break
    return summary


def registration_process_one(
    *, pk: int, lane: str | None = None, actor: Actor = PROCESSOR
) -> str | None:
    """Process one registration in its own transaction. Returns the outcome, or None when it
    was not this processor's to take now (lane busy, earlier work pending, already done)."""
    with transaction.atomic():
        if lane is None:
            lane = RawRegistration.objects.filter(pk=pk).values_list("lane", flat=True).first()
        if lane is None or not _lock_lane(lane):
            return None
        registration = (
            RawRegistration.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=RegistrationStatus.NEW)
            .first()
        )
        if registration is None or _earlier_in_lane(registration).exists():
            return None
        registration.attempts += 1
        try:
            with transaction.atomic():
                text = _apply(registration, actor)
                registration_processed.send(sender=RawRegistration, registration=registration)
        except (ApplicationError, IntegrityError, ValueError, LookupError) as exc:
            return _fail(registration, actor, exc)
        except DatabaseError:
            raise  # the database itself is in trouble: leave the registration new, retry later
        except Exception as exc:  # a bug must not block the floor: fail it, keep the trace
            logger.exception("registration %s failed unexpectedly", registration.uuid)
            return _fail(registration, actor, exc)
        registration.status = RegistrationStatus.PROCESSED
        registration.processed_at = timezone.now()
        registration.error = ""
        registration.error_code = ""
        registration.save(
            update_fields=["status", "processed_at", "error", "error_code", "attempts"]
        )
        ProcessingLogEntry.objects.create(
            registration=registration,
            outcome=ProcessingOutcome.PROCESSED,
            message=text,
            actor=actor.label,
        )
        return ProcessingOutcome.PROCESSED


def _fail(registration: RawRegistration, actor: Actor, exc: Exception) -> str:
    if isinstance(exc, ApplicationError):
        message, code = exc.message, exc.code
    else:
        message, code = f"{type(exc).__name__}: {exc}", "processing_error"
    registration.status = RegistrationStatus.FAILED
    registration.error = message
    registration.error_code = code
    registration.save(update_fields=["status", "error", "error_code", "attempts"])
    ProcessingLogEntry.objects.create(
        registration=registration,
        outcome=ProcessingOutcome.FAILED,
        message=f"[{code}] {message}",
        actor=actor.label,
    )
    return ProcessingOutcome.FAILED


# --- The order a registration works on -----------------------------------------------------


@dataclass
class OrderWork:
    """An order locked for one event (a registration, or material put at an input location),
    with what the flushing engine needs of it."""

    order: ProductionOrder
    actor: Actor
    registration: RawRegistration | None = None
    source: Source | None = None
    occurred_at: datetime | None = None
    resource: Resource | None = None
    lot_number: str = ""
    # Where material is taken from when the event says so (a manual consumption, an arrival).
    take_from: Location | None = None
    _jobs: dict[int, Job] | None = None
    _materials: dict | None = None

    def __post_init__(self) -> None:
        registration = self.registration
        if registration is None:
            return
        self.source = self.source or Source(SourceType.REGISTRATION, str(registration.uuid))
        self.occurred_at = self.occurred_at or registration.occurred_at
        if registration.kind != K.REPORT_AS_FINISHED:
            # A report as finished names the finished lot, never a component's.
            self.lot_number = self.lot_number or registration.lot_number
        if registration.kind == K.CONSUME_MATERIAL and registration.location_id:
            self.take_from = registration.location

    @property
    def reference(self) -> str:
        return order_reference(self.order)

    @property
    def process_jobs(self) -> dict[int, Job]:
        """The order's process job per operation number."""
        if self._jobs is None:
            self._jobs = {
                job.operation_number: job
                for job in self.order.jobs.filter(kind=JobKind.PROCESS).select_related(
                    "resource__input_location"
                )
            }
        return self._jobs

    @property
    def first_operation(self) -> int | None:
        return min(self.process_jobs, default=None)

    def to_parent(self, quantity: Decimal) -> Decimal:
        """An order-unit quantity in the product's unit (what BOM ratios are per)."""
        if not quantity or self.order.unit_id == self.order.item.unit_id:
            return quantity
        return inventory_selectors.quantity_to_item_unit(
            item=self.order.item, quantity=quantity, unit=self.order.unit, round_up=False
        )

    def _load_materials(self) -> dict:
        if self._materials is None:
            materials = list(
                self.order.materials.select_related(
                    "component__unit", "consumption_state"
                ).order_by("line_number")
            )
            lines = [
                flushing.MaterialLine(
                    line_id=m.pk,
                    component=m.component_id,
                    quantity_per=m.quantity_per,
                    scrap_allowance_pct=m.scrap_allowance_pct,
                    flushing_principle=m.flushing_principle,
                    item_default_principle=m.component.default_flushing_principle,
                    operation_number=m.operation_number,
                    decimal_places=m.component.unit.decimal_places,
                )
                for m in materials
            ]
            states = {}
            for m in materials:
                state = getattr(m, "consumption_state", None)
                if state is not None:
                    states[m.pk] = flushing.LineState(
                        covered_output=state.covered_output,
                        consumed=state.consumed,
                        manual_consumed=state.manual_consumed,
                    )
            self._materials = {
                "by_id": {m.pk: m for m in materials},
                "lines": lines,
                "states": states,
                "context": flushing.OrderContext(
                    order_quantity=order_parent_quantity(self.order),
                    operation_numbers=tuple(sorted(self.process_jobs)),
                ),
            }
        return self._materials

    def material_lines(self) -> list[flushing.MaterialLine]:
        """The order's material lines, as the flushing engine reads them."""
        return self._load_materials()["lines"]

    def flush(self, event, *, parent_lot: Lot | None = None) -> list[PickingListLine]:
        """Run the flushing engine for one event and post what it consumes."""
        return self._flush(event, parent_lot)[0]

    def flush_put(self, event: flushing.PutAtInputLocation) -> Decimal:
        """Material put at the input location: consume what lines take; returns the rest."""
        return self._flush(event, None)[1]

    def _flush(self, event, parent_lot: Lot | None) -> tuple[list[PickingListLine], Decimal]:
        if not settings.MES_POST_INVENTORY:
            # A scale unit: the hub consumes, when this registration reaches it.
            return [], getattr(event, "quantity", ZERO)
        data = self._load_materials()
        if not data["lines"]:
            return [], getattr(event, "quantity", ZERO)
        result = flushing.flush(
            order=data["context"], lines=data["lines"], states=data["states"], event=event
        )
        lines = self._post(result.consumptions, data["by_id"], parent_lot)
        for line_id in result.changed_line_ids:
            state = result.states[line_id]
            values = {
                "covered_output": state.covered_output,
                "consumed": state.consumed,
                "manual_consumed": state.manual_consumed,
            }
            # The order is locked: nobody else writes its lines' states meanwhile.
            if line_id in data["states"]:
                MaterialLineState.objects.filter(material_id=line_id).update(**values)
            else:
                MaterialLineState.objects.create(material_id=line_id, **values)
        data["states"] = dict(result.states)
        return lines, result.not_consumed if result.not_consumed is not None else ZERO

    def consumption_location(self, material) -> Location:
        """Where a line's component is taken from: the input location of its operation's
        resource; for a production finish line, the reporting resource's, else the last
        operation's."""
        if self.take_from is not None:
            return self.take_from
        jobs = self.process_jobs
        operation = material.operation_number
        if material.effective_flushing_principle != "production_finish":
            operation = operation or self.first_operation
        resources = []
        if operation in jobs:
            resources.append(jobs[operation].resource)
        reporting = self.resource
        if reporting is None and self.registration is not None and self.registration.resource_id:
            reporting = self.registration.resource  # read only when something is consumed
        if reporting is not None:
            resources.append(reporting)
        if jobs:
            resources.append(jobs[max(jobs)].resource)
        for resource in resources:
            if resource.input_location_id:
                return resource.input_location
        raise MissingMasterData(
            f"No input location to take {material.component.part_number} from: give the "
            "resource of its operation an input location.",
            code="input_location_missing",
            fields={"component": material.component.part_number},
        )

    def _lots_for(self, material, location: Location, quantity: Decimal, lot_number: str):
        """Split an issue over lots: the named one, else first-in first-out at the location."""
        component = material.component
        if component.tracking == Tracking.NONE:
            return [(None, quantity)]
        if lot_number:
            return [(lot_number, quantity)]
        rows = (
            OnHand.objects.filter(
                item=component, location=location, lot__isnull=False, quantity__gt=0
            )
            .select_related("lot")
            .order_by("lot__created_at", "lot_id")
        )
        picks, left = [], quantity
        for row in rows:
            take = min(left, row.quantity)
            picks.append((row.lot, take))
            left -= take
            if not left:
                return picks
        available = quantity - left
        raise InsufficientStock(
            f"{component.part_number} needs {quantity} from {location} but only {available} "
            "is there in lots.",
            fields={"item": component.part_number, "location": str(location)},
        )

    def _post(self, consumptions, by_id, parent_lot) -> list[PickingListLine]:
        source = self.source
        issues, planned = [], []
        for consumption in consumptions:
            material = by_id[consumption.line_id]
            location = self.consumption_location(material)
            if consumption.quantity < 0:
                lot = self.lot_number or self._last_lot(material)
                txn = inventory_services.inventory_return(
                    item=material.component,
                    quantity=-consumption.quantity,
                    location=location,
                    lot=lot,
                    order_ref=self.reference,
                    source=source,
                    actor=self.actor,
                    reason="returned from the order",
                    occurred_at=self.occurred_at,
                )
                planned.append((consumption, material, location, txn.lot, consumption.quantity))
                issues.append(txn)
                continue
            for lot, quantity in self._lots_for(
                material, location, consumption.quantity, self.lot_number
            ):
                planned.append((consumption, material, location, lot, quantity))
        movements = [
            MovementInput(
                item=material.component,
                quantity=quantity,
                location=location,
                lot=lot,
                parent_lot=parent_lot,
                reason=f"{consumption.event} {consumption.principle}",
            )
            for consumption, material, location, lot, quantity in planned
            if quantity > 0
        ]
        posted = iter(
            inventory_services.inventory_issue_many(
                lines=movements,
                order_ref=self.reference,
                source=source,
                actor=self.actor,
                occurred_at=self.occurred_at,
            )
            if movements
            else []
        )
        returns = iter(issues)
        lines = []
        # One flush per registration: its lines are numbered from 1.
        for number, (consumption, material, location, _lot, quantity) in enumerate(
            planned, start=1
        ):
            txn = next(posted) if quantity > 0 else next(returns)
            lines.append(
                PickingListLine(
                    registration=self.registration,
                    line_number=number,
                    order=self.order,
                    material=material,
                    component=material.component,
                    lot=txn.lot,
                    location=location,
                    quantity=quantity,
                    principle=consumption.principle,
                    event=consumption.event,
                    operation_number=consumption.operation_number,
                    covered_from=consumption.covered_from,
                    covered_to=consumption.covered_to,
                    inventory_transaction=txn,
                )
            )
        return PickingListLine.objects.bulk_create(lines)

    def _last_lot(self, material) -> Lot | None:
        line = (
            PickingListLine.objects.filter(material=material, quantity__gt=0, lot__isnull=False)
            .select_related("lot")
            .order_by("-pk")
            .first()
        )
        return line.lot if line else None

    def record(self, *, good: Decimal = ZERO, scrap: Decimal = ZERO) -> None:
        """Order quantities and the automatic transitions, with a logbook line if it moved.

        In progress is recomputed from totals, not stepped: what the first operation started
        less what was completed or scrapped, never below zero. So the result does not depend
        on the order registrations arrive in (a robot's report may beat the terminals')."""
        order = self.order
        started = (
            Job.objects.filter(
                order_id=order.pk, kind=JobKind.PROCESS, operation_number=self.first_operation
            ).aggregate(total=Sum("quantity_started"))["total"]
            or ZERO
        )
        in_progress = max(
            ZERO,
            started - (order.quantity_completed + good) - (order.quantity_scrapped + scrap),
        )
        before = order.status
        self.order = order_record_quantities(
            order=order,
            actor=self.actor,
            reason=f"{self.source.type} {self.source.id}",
            good=good,
            scrap=scrap,
            in_progress=in_progress - order.quantity_in_progress,
            work_started=True,
        )
        if self.order.status != before and self.registration is not None:
            _log(
                self.registration,
                LogbookKind.TRANSITION,
                f"Order {self.order.number}: {before} -> {self.order.status}",
                order=self.order,
            )


def _log(registration, kind, text, *, order=None, job=None) -> None:
    LogbookEntry.objects.create(
        at=registration.occurred_at,
        kind=kind,
        order=order if order is not None else registration.order,
        job=job if job is not None else registration.job,
        worker_id=registration.worker_id,
        registration=registration,
        text=text[:300],
    )


# --- Applying one registration ---------------------------------------------------------------


def _apply(registration: RawRegistration, actor: Actor) -> str:
    kind = registration.kind
    if registration.order_id is None:
        text = _attendance_text(registration)
        _log(registration, LogbookKind.INFO, text)
        return text
    order = lock_row(
        ProductionOrder.objects.select_related("item__unit", "unit"),
        registration.order_id,
        of=("self",),
    )
    work = OrderWork(order=order, registration=registration, actor=actor)
    if kind in (K.START_JOB, K.BUNDLE):
        return _start_job(work)
    if kind in (K.STOP_JOB, K.REPORT_PROGRESS, K.REPORT_SCRAP):
        return _job_feedback(work)
    if kind == K.REPORT_AS_FINISHED:
        return _report_as_finished(work)
    if kind == K.CONSUME_MATERIAL:
        return _consume_material(work)
    if kind == K.CORRECTION:
        # corrections.py builds on this module (OrderWork), so it is imported here.
        from .corrections import correction_apply

        return correction_apply(work)
    raise ApplicationError(f"Nothing processes a {kind} registration.", code="kind_unknown")


def _attendance_text(registration: RawRegistration) -> str:
    worker = registration.worker.badge_id if registration.worker else "?"
    detail = ""
    if registration.indirect_activity_id:
        detail = f" {registration.indirect_activity.code}"
    elif registration.absence_code_id:
        detail = f" {registration.absence_code.code} {show(registration.absence_minutes)} min"
    return f"{worker}: {registration.get_kind_display().lower()}{detail}"


def _save_job(job: Job, fields: list[str]) -> None:
    # The journals are the job's history of quantities; its own history keeps plan changes.
    job.skip_history_when_saving = True
    try:
        job.save(update_fields=fields)
    finally:
        del job.skip_history_when_saving


def _lock_job(work: OrderWork) -> Job:
    job = lock_row(Job.objects.select_related("resource"), work.registration.job_id)
    job.order = work.order  # already locked and loaded: no second read for its number
    return job


def _start_job(work: OrderWork) -> str:
    registration = work.registration
    job = _lock_job(work)
    quantity = registration.quantity
    job.status = JobStatus.STARTED
    if job.started_at is None or registration.occurred_at < job.started_at:
        job.started_at = registration.occurred_at
    job.quantity_started += quantity
    _save_job(job, ["status", "started_at", "quantity_started"])
    if registration.worker_id:
        JobActivity.objects.create(
            worker_id=registration.worker_id,
            job=job,
            started_at=registration.occurred_at,
            start_registration=registration,
            bundle_uuid=registration.bundle_uuid,
        )
    if job.kind == JobKind.PROCESS and quantity > 0:
        work.flush(
            flushing.Start(
                started=work.to_parent(quantity),
                cumulative_started=work.to_parent(job.quantity_started),
                operation_number=job.operation_number,
            )
        )
    work.record()
    text = f"Job {job} started"
    if quantity:
        text += f" for {show(quantity)}"
    if registration.bundle_uuid and registration.bundle_size > 1:
        text += f" (bundle of {registration.bundle_size})"
    _log(registration, LogbookKind.INFO, text, order=work.order, job=job)
    return text


def _bundle_minutes(activity: JobActivity, ended_at: datetime) -> Decimal:
    """The share of a bundled activity's time: every stretch is split evenly over the bundle's
    jobs that were still running in it. Read from the registrations as posted (each job's
    first stop after the bundle start), so the split does not depend on processing order."""
    members = RawRegistration.objects.filter(
        bundle_uuid=activity.bundle_uuid, kind=K.BUNDLE
    ).exclude(status=RegistrationStatus.CANCELED)
    ends = []
    for member in members.values("job_id"):
        if member["job_id"] == activity.job_id:
            ends.append(ended_at)
            continue
        stop = (
            RawRegistration.objects.filter(
                worker_id=activity.worker_id,
                job_id=member["job_id"],
                stops_job=True,
                occurred_at__gte=activity.started_at,
            )
            .exclude(status=RegistrationStatus.CANCELED)
            .order_by("occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        ends.append(stop or ended_at)
    seconds = Decimal(0)
    start = activity.started_at
    for point in sorted({e for e in ends if e <= ended_at}):
        if point <= start:
            continue
        running = sum(1 for e in ends if e >= point)
        seconds += Decimal((point - start).total_seconds()) / running
        start = point
    return (seconds / 60).quantize(MINUTE_PLACES)


def _close_activity(work: OrderWork, job: Job) -> tuple[datetime | None, Decimal, int]:
    """End the worker's open time on the job: (started at, minutes, bundle size)."""
    registration = work.registration
    activity = (
        JobActivity.objects.select_for_update()
        .select_related("start_registration")
        .filter(worker_id=registration.worker_id, job=job, ended_at__isnull=True)
        .order_by("-started_at")
        .first()
    )
    if activity is None:
        return None, ZERO, 1
    activity.ended_at = max(registration.occurred_at, activity.started_at)
    activity.save(update_fields=["ended_at"])
    if activity.bundle_uuid is not None:
        minutes = _bundle_minutes(activity, activity.ended_at)
    else:
        minutes = Decimal((activity.ended_at - activity.started_at).total_seconds()) / 60
    size = activity.start_registration.bundle_size
    return activity.started_at, minutes.quantize(MINUTE_PLACES), size


def _job_feedback(work: OrderWork) -> str:
    registration = work.registration
    job = _lock_job(work)
    good, scrap = registration.quantity_good, registration.quantity_scrap
    job.quantity_good += good
    job.quantity_scrapped += scrap
    started_at, minutes, bundle_size = None, ZERO, 1
    if registration.stops_job and registration.worker_id:
        started_at, minutes, bundle_size = _close_activity(work, job)
    if registration.completes_job:
        job.status = JobStatus.COMPLETED
        job.completed_at = registration.occurred_at
    elif registration.stops_job and not job.activities.filter(ended_at__isnull=True).exists():
        job.status = JobStatus.STOPPED
    _save_job(job, ["quantity_good", "quantity_scrapped", "status", "completed_at"])
    RouteCardLine.objects.create(
        registration=registration,
        order=work.order,
        job=job,
        operation_number=job.operation_number,
        job_kind=job.kind,
        resource=job.resource,
        worker_id=registration.worker_id,
        started_at=started_at,
        ended_at=registration.occurred_at,
        minutes=minutes,
        bundle_size=bundle_size,
        quantity_good=good,
        quantity_scrap=scrap,
        reason_code_id=registration.reason_code_id,
    )
    if job.kind == JobKind.PROCESS and good + scrap > 0:
        work.flush(
            flushing.OperationFeedback(
                operation_number=job.operation_number,
                good=work.to_parent(good),
                scrap=work.to_parent(scrap),
                cumulative_output=work.to_parent(job.quantity_good + job.quantity_scrapped),
                consumption_setting=job.resource.consumption_setting,
            )
        )
    if scrap > 0:
        work.record(scrap=scrap)
    parts = [f"Job {job}:"]
    if good or scrap:
        parts.append(f"{show(good)} good, {show(scrap)} scrap")
    if minutes:
        parts.append(f"{show(minutes)} min")
    if registration.completes_job:
        parts.append("completed")
    elif registration.stops_job:
        parts.append("stopped")
    text = " ".join(parts)
    _log(registration, LogbookKind.QUANTITY, text, order=work.order, job=job)
    return text


def _report_as_finished(work: OrderWork) -> str:
    registration = work.registration
    order = work.order
    good, scrap = registration.quantity_good, registration.quantity_scrap
    receipt = None
    if good > 0 and settings.MES_POST_INVENTORY:
        # Landing at another resource's input: the orders waiting there, before on-hand.
        lock_orders_waiting_at(location_id=registration.location_id, item_id=order.item_id)
        receipt = inventory_services.inventory_receive_finished(
            item=order.item,
            quantity=work.to_parent(good),
            location=registration.location,
            lot=registration.lot_number or None,
            order_ref=work.reference,
            source=Source(SourceType.REGISTRATION, str(registration.uuid)),
            actor=work.actor,
            reason="report as finished",
            occurred_at=registration.occurred_at,
        )
    finished_lot = receipt.lot if receipt is not None else None
    before = (
        ReportAsFinishedLine.objects.filter(order=order).aggregate(
            total=Sum(F("quantity_good") + F("quantity_scrap"))
        )["total"]
        or ZERO
    )
    terminal = registration.terminal
    consume = registration.consume and (terminal is None or terminal.report_as_finished_consumes)
    resource = registration.resource
    work.flush(
        flushing.ReportAsFinished(
            good=work.to_parent(good),
            scrap=work.to_parent(scrap),
            cumulative_output=work.to_parent(before + good + scrap),
            consumption_setting=resource.consumption_setting if resource else None,
            consume=consume,
        ),
        parent_lot=finished_lot,
    )
    ReportAsFinishedLine.objects.create(
        registration=registration,
        order=order,
        item=order.item,
        quantity_good=good,
        quantity_scrap=scrap,
        lot=finished_lot,
        location=registration.location if good > 0 else None,
        inventory_transaction=receipt,
    )
    if finished_lot is not None:
        genealogy_link(
            order=order,
            registration=registration,
            finished_lot=finished_lot,
            output=work.to_parent(good),
            lines=work.material_lines(),
        )
    work.record(good=good, scrap=scrap)
    text = f"Order {order.number}: {show(good)} reported as finished"
    if scrap:
        text += f", {show(scrap)} scrapped"
    if finished_lot is not None:
        text += f" ({finished_lot.number})"
    if not consume:
        text += ", without consumption"
    _log(registration, LogbookKind.QUANTITY, text, order=order)
    return text


def _consume_material(work: OrderWork) -> str:
    registration = work.registration
    lines = work.flush(
        flushing.ManualConsumption(line_id=registration.material_id, quantity=registration.quantity)
    )
    verb = "consumed" if registration.quantity > 0 else "returned"
    component = lines[0].component.part_number if lines else "material"
    text = f"Order {work.order.number}: {show(abs(registration.quantity))} {component} {verb}"
    _log(registration, LogbookKind.CONSUMPTION, text, order=work.order)
    return text
