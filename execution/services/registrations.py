"""Accepting shop-floor registrations: validate against the worker's and the job's state at the
time the event happened, store, answer at once. The processor (processing.py) does the rest.

State is read from the registrations already accepted (not only the processed ones): a
terminal posts "start" and "progress" seconds apart, long before the processor runs. It is
evaluated at the event's own time, so a terminal that was offline may post its backlog late,
and against what came after it: the worker's later registrations must still follow
(worker_timeline.py), and a quantity must fit the material's flow from its time on
(limits.py). What is checked is locked first (_lock_flow), so concurrent posts cannot both
pass. Who may post what is senders.py's, checked before.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from inventory.choices import Tracking
from inventory.fields import ZERO
from inventory.fields import show as _show
from inventory.models import Location, validate_quantity_for_unit
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed
from mesproject.locks import lock_row, lock_rows
from orders.choices import OrderStatus, ReasonKind
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource
from orders.services import SYSTEM, Actor, lock_order

from .. import hooks
from ..choices import (
    JOB_KINDS,
    JOB_START_KINDS,
    AttendanceStatus,
    JobKind,
    JobStatus,
    ProcessingOutcome,
    RegistrationKind,
    RegistrationStatus,
)
from ..models import (
    AbsenceCode,
    AttendanceDay,
    IndirectActivity,
    Job,
    ProcessingLogEntry,
    RawRegistration,
    Terminal,
    Worker,
)
from . import limits
from .nudge import processor_nudge
from .worker_timeline import (
    Contradiction,
    Move,
    last_of,
    shift_at,
    step,
    worker_open_job_ids,
)

K = RegistrationKind
# Orders on which the floor may report.
RUNNING = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
# Kinds that need a worker.
WORKER_KINDS = (
    K.CLOCK_IN,
    K.CLOCK_OUT,
    K.ABSENCE,
    K.START_JOB,
    K.BUNDLE,
    K.STOP_JOB,
    K.INDIRECT_START,
    K.INDIRECT_STOP,
    K.BREAK_START,
    K.BREAK_STOP,
)
# Namespace of the registration UUIDs derived from a posted one (bundle members, the jobs a
# clock-out stops): the same post always derives the same UUIDs.
DERIVED_NAMESPACE = uuid_module.UUID("5b0c3f4e-8d7a-4d0e-9a57-6a1c2b1f0e11")


@dataclass
class RegistrationInput:
    """One registration as posted, references already looked up by the serializer."""

    uuid: uuid_module.UUID
    kind: str
    occurred_at: datetime
    worker: Worker | None = None
    terminal: Terminal | None = None
    resource: Resource | None = None
    order: ProductionOrder | None = None
    job: Job | None = None
    jobs: list[Job] = field(default_factory=list)
    quantity: Decimal | None = None
    quantity_good: Decimal = ZERO
    quantity_scrap: Decimal = ZERO
    reason_code: ReasonCode | None = None
    stops_job: bool = False
    completes_job: bool = False
    absence_code: AbsenceCode | None = None
    absence_minutes: Decimal = ZERO
    indirect_activity: IndirectActivity | None = None
    lot_number: str = ""
    location: Location | None = None
    material: ProductionOrderMaterial | None = None
    consume: bool = True
    note: str = ""
    # A bundle's start quantity per job, filled in by the checks.
    start_quantities: dict[int, Decimal] = field(default_factory=dict)
    # Whether the door checks stock (not for what a scale unit's floor already did).
    check_stock: bool = True


@dataclass
class Accepted:
    """What the endpoint answers: the stored rows, and whether this post was a replay."""

    registrations: list[RawRegistration]
    replayed: bool


def lock_worker(worker_id: int) -> Worker | None:
    """The worker row, locked until the end of the transaction: one registration per worker
    at a time (mesproject.locks); None when there is no such worker."""
    try:
        return lock_row(Worker, worker_id)
    except Worker.DoesNotExist:
        return None


def _lock_flow(data: RegistrationInput) -> None:
    """Lock what the quantity limits read, after the worker (the product's lock order:
    worker, order, jobs by id): the jobs started or reported on; for report as finished the
    order's last operation, whose output it takes; for a consumption the order."""
    job_ids = [job.pk for job in data.jobs] or ([data.job.pk] if data.job else [])
    if data.kind == K.CONSUME_MATERIAL and data.order is not None:
        lock_order(data.order.pk)
    if data.kind == K.REPORT_AS_FINISHED and data.order is not None:
        last = limits.process_jobs(data.order)[-1:]
        job_ids = [job.pk for job in last]
    lock_rows(Job, job_ids)


def _refuse(message: str, code: str, **fields) -> ApplicationError:
    return ApplicationError(message, code=code, fields={k: str(v) for k, v in fields.items()})


def _conflict(message: str, code: str, **fields) -> NotAllowed:
    return NotAllowed(message, code=code, fields={k: str(v) for k, v in fields.items()})


def derived_uuid(parent: uuid_module.UUID, part: str) -> uuid_module.UUID:
    return uuid_module.uuid5(DERIVED_NAMESPACE, f"{parent}:{part}")


def lane_of(*, order_id: int | None, worker_id: int | None) -> str:
    if order_id is not None:
        return f"order:{order_id}"
    return f"worker:{worker_id}"


# --- The job's state at a point in time -------------------------------------------------------


def job_started(job: Job, at: datetime) -> bool:
    return (
        RawRegistration.objects.filter(job=job, kind__in=JOB_START_KINDS, occurred_at__lte=at)
        .exclude(status=RegistrationStatus.CANCELED)
        .exists()
    )


def attendance_day_locked(worker: Worker, at: datetime) -> bool:
    """An approved (or transferred) day cannot change without un-approving it. A
    registration belongs to the day of its own date and, inside a shift, to the day of the
    shift's clock-in (a night shift is paid on the day it started)."""
    days = {timezone.localdate(at)}
    last = last_of(worker, at, (K.CLOCK_IN, K.CLOCK_OUT))
    if last is not None and last.kind == K.CLOCK_IN:
        days.add(timezone.localdate(last.occurred_at))
    return AttendanceDay.objects.filter(
        worker=worker,
        date__in=days,
        status__in=(AttendanceStatus.APPROVED, AttendanceStatus.TRANSFERRED),
    ).exists()


# --- Validation -------------------------------------------------------------------------------


def _check_quantity(value: Decimal, unit, name: str) -> Decimal:
    if value is None:
        return ZERO
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _refuse(f"{name} must be a decimal number.", "invalid_quantity", **{name: value})
    if value < 0:
        raise _refuse(f"{name} cannot be negative.", "invalid_quantity", **{name: value})
    try:
        validate_quantity_for_unit(value, unit, name)
    except ValidationError as exc:  # inventory's unit check: same meaning here
        raise _refuse(
            f"{name} {value} has more decimals than unit {unit.code} allows.",
            "too_many_decimals",
            **{name: value},
        ) from exc
    return value


def _check_order_running(order: ProductionOrder) -> None:
    if order.status not in RUNNING:
        raise _conflict(
            f"Order {order.number} is {order.get_status_display()}: nothing can be reported on it.",
            "order_not_running",
            order=order.number,
            status=order.status,
        )


def _check_job(job: Job, *, starting: bool = False) -> None:
    _check_order_running(job.order)
    if job.status == JobStatus.COMPLETED:
        raise _conflict(f"Job {job} is completed.", "job_completed", job=job.pk)
    if starting and job.on_hold:
        raise _conflict(f"Job {job} is on hold.", "job_on_hold", job=job.pk)
    if starting and job.order.closing_since is not None:
        # Force close: nothing new starts, not even units done at an earlier operation.
        raise _conflict(
            f"The ERP is force closing order {job.order.number}: only the units already at "
            "an operation may finish it.",
            "order_closing",
            order=job.order.number,
            job=job.pk,
        )


def _check_reason(data: RegistrationInput) -> None:
    if data.quantity_scrap > 0:
        if data.reason_code is None:
            raise _refuse("Scrap needs a reason code.", "reason_required", reason_code="required")
        if not data.reason_code.is_active or data.reason_code.kind != ReasonKind.SCRAP:
            raise _refuse(
                f"Reason {data.reason_code.code} is not an active scrap reason.",
                "reason_invalid",
                reason_code=data.reason_code.code,
            )


def _moves(data: RegistrationInput) -> list[Move]:
    if data.kind == K.BUNDLE:
        return [Move(kind=K.BUNDLE, job_id=job.pk, bundle_uuid=data.uuid) for job in data.jobs]
    return [
        Move(
            kind=data.kind,
            job_id=data.job.pk if data.job else None,
            stops_job=data.stops_job or data.completes_job or data.kind == K.STOP_JOB,
            indirect_id=data.indirect_activity.pk if data.indirect_activity else None,
        )
    ]


def _check_worker_state(data: RegistrationInput) -> None:
    """The worker's timeline with this registration at its time: it must follow what the
    worker did before, and everything the worker did after it must still follow."""
    worker, at = data.worker, data.occurred_at
    if worker is None:
        return
    if not worker.is_active:
        raise _conflict(f"Worker {worker.badge_id} is inactive.", "worker_inactive")
    if attendance_day_locked(worker, at):
        raise _conflict(
            f"An attendance day of {worker.badge_id} this registration belongs to "
            f"({timezone.localdate(at)} or its shift's) is approved: un-approve it before "
            "registering on it.",
            "attendance_day_approved",
            date=timezone.localdate(at),
        )
    badge = worker.badge_id
    shift, indirect = shift_at(worker, at)
    try:
        for move in _moves(data):
            shift = step(shift, move, badge=badge)
    except Contradiction as exc:
        raise _conflict(exc.message, exc.code, at=at.isoformat(), **exc.fields) from None
    if data.kind == K.INDIRECT_STOP:
        data.indirect_activity = indirect
    if data.kind == K.CLOCK_OUT:
        shift = replace(shift, open_jobs={})  # its stop registrations stop them
    later = (
        RawRegistration.objects.filter(worker=worker, occurred_at__gt=at)
        .exclude(status=RegistrationStatus.CANCELED)
        .order_by("occurred_at", "id")
    )
    for registration in later:
        try:
            shift = step(shift, Move.of(registration), badge=badge)
        except Contradiction as exc:
            raise _conflict(
                f"{badge} already has a later {registration.get_kind_display().lower()} at "
                f"{timezone.localtime(registration.occurred_at):%Y-%m-%d %H:%M:%S} that this "
                f"registration would contradict ({exc.message})",
                "occurred_out_of_order",
                registration=registration.uuid,
                occurred_at=registration.occurred_at.isoformat(),
                contradiction=exc.code,
            ) from None


def _check_job_registration(data: RegistrationInput) -> None:
    kind, worker, at = data.kind, data.worker, data.occurred_at
    jobs = data.jobs if kind == K.BUNDLE else [data.job]
    if any(job is None for job in jobs) or not jobs:
        raise _refuse(f"A {kind} registration names its job.", "job_required", job="required")
    if kind == K.BUNDLE and len({j.pk for j in jobs}) != len(jobs):
        raise _refuse("A bundle names each job once.", "bundle_duplicate_job")
    if kind == K.BUNDLE and len(jobs) < 2:
        raise _refuse("A bundle starts two jobs or more.", "bundle_too_small")
    for job in jobs:
        _check_job(job, starting=kind in JOB_START_KINDS)
    if kind in JOB_START_KINDS:
        return
    job = data.job
    if worker is None and not job_started(job, at):
        raise _conflict(
            f"Job {job} has never been started: start it first.", "job_not_started", job=job.pk
        )
    unit = job.order.unit
    _check_quantity(data.quantity_good, unit, "quantity_good")
    _check_quantity(data.quantity_scrap, unit, "quantity_scrap")
    _check_reason(data)
    if job.kind == JobKind.SETUP and data.quantity_good + data.quantity_scrap > 0:
        # Setup starts no quantity, so it has none to report (scrap included).
        raise _refuse(f"Job {job} is a setup job: it reports no quantity.", "setup_job_no_output")
    if kind == K.REPORT_SCRAP and data.quantity_scrap <= 0:
        raise _refuse("A scrap report needs a scrap quantity.", "quantity_required")
    if (
        kind == K.REPORT_PROGRESS
        and data.quantity_good + data.quantity_scrap <= 0
        and not (data.stops_job or data.completes_job)
    ):
        raise _refuse(
            "A progress report needs a good or scrap quantity, or stops / completes the job.",
            "quantity_required",
        )
    reported = data.quantity_good + data.quantity_scrap
    if reported > 0:
        reportable = limits.job_limits(job=job, at=at).reportable
        if reported > reportable:
            raise _conflict(
                f"Job {job} has {_show(reportable)} in progress at that time: "
                f"{_show(reported)} good and scrap cannot be reported on it.",
                "quantity_exceeds_in_progress",
                job=job.pk,
                reportable=reportable,
            )


def _check_start(data: RegistrationInput, job: Job, quantity: Decimal | None) -> Decimal:
    """A start's quantity (default: the rest of the job), within what may be started at
    its time and with its start-flushed material on hand."""
    allowed = limits.job_limits(job=job, at=data.occurred_at)
    if quantity is None:
        quantity = allowed.rest
    _check_quantity(quantity, job.order.unit, "quantity")
    if quantity > allowed.startable:
        raise _conflict(
            f"Job {job} may start at most {_show(allowed.startable)} at that time "
            f"(the operation before it output less, or the order quantity is reached).",
            "start_exceeds_available",
            job=job.pk,
            startable=allowed.startable,
        )
    shortages = (
        limits.start_shortages(job=job, quantity=quantity, started=allowed.started)
        if data.check_stock
        else []
    )
    if shortages:
        raise _conflict(
            f"Job {job} cannot start {_show(quantity)}: {'; '.join(shortages)}.",
            "material_short",
            job=job.pk,
            shortages="; ".join(shortages),
        )
    return quantity


def _resolve_finished_location(data: RegistrationInput) -> Location:
    if data.location is not None:
        if data.location.warehouse.site_id != data.order.site_id:
            raise _refuse(
                f"Location {data.location} is not at the order's site.",
                "location_wrong_site",
                location=data.location.code,
            )
        return data.location
    resource = data.resource
    if resource is None:
        last_job = data.order.jobs.select_related("resource").order_by("-operation_number").first()
        resource = last_job.resource if last_job else None
    if resource is not None and resource.output_location_id:
        return resource.output_location
    raise MissingMasterData(
        "Report as finished needs a put-away location: name one, or give the resource an "
        "output location.",
        code="location_missing",
        fields={"location": "required"},
    )


def _check_report_as_finished(data: RegistrationInput) -> None:
    order = data.order
    if order is None:
        raise _refuse("A report as finished names its order.", "order_required")
    _check_order_running(order)
    unit = order.unit
    _check_quantity(data.quantity_good, unit, "quantity_good")
    _check_quantity(data.quantity_scrap, unit, "quantity_scrap")
    if data.quantity_good + data.quantity_scrap <= 0:
        raise _refuse("Report a good or scrap quantity.", "quantity_required")
    _check_reason(data)
    tracking = order.item.tracking
    if data.quantity_good > 0 and tracking != Tracking.NONE and not data.lot_number.strip():
        raise _refuse(
            f"{order.item.part_number} is tracked by {tracking}: give the lot or serial number.",
            "lot_required",
            lot_number="required",
        )
    if tracking == Tracking.SERIAL and data.quantity_good not in (ZERO, Decimal(1)):
        raise _refuse("A serial number is one unit: report serials one by one.", "serial_quantity")
    total, good = limits.finishable(order=order, at=data.occurred_at)
    reported = data.quantity_good + data.quantity_scrap
    if reported > total:
        raise _conflict(
            f"Order {order.number}: its last operation has output {_show(total)} not yet "
            f"reported as finished at that time; {_show(reported)} cannot be.",
            "finish_exceeds_output",
            order=order.number,
            finishable=total,
        )
    if data.quantity_good > good:
        raise _conflict(
            f"Order {order.number} may receive {_show(good)} more good at most (its quantity "
            f"{_show(order.quantity)} plus {_show(order.over_delivery_tolerance_pct)} % "
            "over-delivery tolerance): a supervisor may raise the quantity or the tolerance.",
            "finish_exceeds_order",
            order=order.number,
            finishable_good=good,
        )
    if data.quantity_good > 0:
        data.location = _resolve_finished_location(data)


def _check_consume_material(data: RegistrationInput) -> None:
    order, material = data.order, data.material
    if order is None or material is None:
        raise _refuse("A material consumption names its order and line.", "material_required")
    if material.order_id != order.pk:
        raise _refuse("The material line is not on this order.", "material_unknown")
    _check_order_running(order)
    if data.quantity is None or not data.quantity:
        raise _refuse("Give the quantity to consume (negative: return).", "quantity_required")
    sign = Decimal(1) if data.quantity > 0 else Decimal(-1)
    _check_quantity(sign * data.quantity, material.component.unit, "quantity")
    component = material.component.part_number
    if data.quantity < 0:
        returnable = limits.returnable(material=material)
        if -data.quantity > returnable:
            raise _conflict(
                f"Only {_show(returnable)} {component} was consumed on line "
                f"{material.line_number}: no more can be returned.",
                "return_exceeds_consumed",
                material_line=material.line_number,
                returnable=returnable,
            )
        return
    if not data.check_stock:
        return
    shortage = limits.consumption_shortage(
        material=material,
        quantity=data.quantity,
        location=data.location,
        lot_number=data.lot_number,
    )
    if shortage:
        raise _conflict(
            f"Order {order.number} line {material.line_number}: {shortage}.",
            "material_short",
            material_line=material.line_number,
            shortages=shortage,
        )


def from_scale_unit(source: str) -> bool:
    """A registration a scale unit forwards: its floor already judged it (its own window and
    limits) and it already happened there."""
    return source.startswith("scale-unit:")


def _check_time(at: datetime | None, source: str) -> None:
    """Within the terminal's clock skew ahead and the backdating window behind. A scale unit's
    registrations were judged by its own window when they were made: the hub takes them
    however late the link brings them."""
    if at is None or timezone.is_naive(at):
        raise _refuse("occurred_at needs a time zone.", "occurred_at_invalid")
    now = timezone.now()
    skew = timedelta(seconds=settings.MES_REGISTRATION_CLOCK_SKEW_SECONDS)
    if at > now + skew:
        raise _refuse(
            f"occurred_at is more than {skew.seconds} seconds ahead of the server's clock.",
            "occurred_at_future",
            occurred_at=at.isoformat(),
        )
    hours = settings.MES_REGISTRATION_BACKDATING_HOURS
    if hours and not from_scale_unit(source) and at < now - timedelta(hours=hours):
        raise _refuse(
            f"occurred_at is more than {hours} hours ago: a supervisor enters older events.",
            "occurred_at_too_old",
            occurred_at=at.isoformat(),
        )


def registration_check(data: RegistrationInput, *, source: str = "terminal") -> None:
    """Every rule a registration must meet to be stored; raises a 4xx error or returns."""
    kind = data.kind
    if kind not in K.values:
        raise _refuse(f"Unknown registration kind {kind!r}.", "kind_unknown", kind=kind)
    _check_time(data.occurred_at, source)
    # A scale unit holds no stock: what its floor did is not refused for stock at the hub
    # (processing fails it, for a supervisor, if the stock really is missing).
    data.check_stock = not from_scale_unit(source)
    if kind in WORKER_KINDS and data.worker is None:
        raise _refuse(f"A {kind} registration names its worker.", "worker_required")
    if data.terminal is not None:
        if not data.terminal.is_active:
            raise _conflict(f"Terminal {data.terminal.code} is inactive.", "terminal_inactive")
        data.resource = data.resource or data.terminal.resource
    if data.job is not None:
        data.order = data.job.order
    _check_worker_state(data)
    if kind in JOB_KINDS:
        _check_job_registration(data)
        if kind == K.START_JOB:
            data.quantity = _check_start(data, data.job, data.quantity)
        elif kind == K.BUNDLE:
            data.start_quantities = {job.pk: _check_start(data, job, None) for job in data.jobs}
    elif kind == K.REPORT_AS_FINISHED:
        _check_report_as_finished(data)
    elif kind == K.CONSUME_MATERIAL:
        _check_consume_material(data)
    elif kind == K.ABSENCE:
        if data.absence_code is None:
            raise _refuse("An absence names its absence code.", "absence_code_required")
        if not data.absence_minutes or data.absence_minutes <= 0:
            raise _refuse("An absence lasts some minutes.", "absence_minutes_required")
    elif kind == K.INDIRECT_START and data.indirect_activity is None:
        raise _refuse("Name the indirect activity.", "indirect_activity_required")


# --- Storing ----------------------------------------------------------------------------------


def _row(data: RegistrationInput, *, source: str, **overrides) -> RawRegistration:
    values = dict(
        uuid=data.uuid,
        kind=data.kind,
        occurred_at=data.occurred_at,
        worker=data.worker,
        terminal=data.terminal,
        resource=data.resource,
        order=data.order,
        job=data.job,
        quantity=data.quantity or ZERO,
        quantity_good=data.quantity_good or ZERO,
        quantity_scrap=data.quantity_scrap or ZERO,
        reason_code=data.reason_code,
        stops_job=data.stops_job or data.completes_job or data.kind == K.STOP_JOB,
        completes_job=data.completes_job,
        absence_code=data.absence_code,
        absence_minutes=data.absence_minutes or ZERO,
        indirect_activity=data.indirect_activity,
        lot_number=data.lot_number.strip(),
        location=data.location,
        material=data.material,
        consume=data.consume,
        note=data.note,
        source=source,
    )
    values.update(overrides)
    order = values["order"]
    worker = values["worker"]
    values["lane"] = lane_of(
        order_id=order.pk if order else None, worker_id=worker.pk if worker else None
    )
    return RawRegistration(**values)


def _rows_for(data: RegistrationInput, source: str) -> list[RawRegistration]:
    if data.kind == K.BUNDLE:
        # One stored registration per job, each in its order's lane, sharing the bundle's
        # UUID: the time is split over them when they stop.
        return [
            _row(
                data,
                source=source,
                uuid=derived_uuid(data.uuid, f"job:{job.pk}"),
                job=job,
                order=job.order,
                quantity=data.start_quantities[job.pk],
                bundle_uuid=data.uuid,
                bundle_size=len(data.jobs),
            )
            for job in data.jobs
        ]
    rows = [_row(data, source=source)]
    if data.kind == K.CLOCK_OUT:
        # Clocking out stops the jobs the worker still has running, at the same time.
        for job in Job.objects.filter(
            pk__in=worker_open_job_ids(data.worker, data.occurred_at)
        ).select_related("order"):
            rows.append(
                _row(
                    data,
                    source=source,
                    uuid=derived_uuid(data.uuid, f"stop:{job.pk}"),
                    kind=K.STOP_JOB,
                    job=job,
                    order=job.order,
                    stops_job=True,
                    bundle_uuid=data.uuid,
                    note="stopped by clock-out",
                )
            )
    return rows


def _existing(uuid: uuid_module.UUID) -> list[RawRegistration]:
    rows = list(RawRegistration.objects.filter(Q(uuid=uuid) | Q(bundle_uuid=uuid)))
    # A clock-out's derived stops share its UUID as bundle_uuid; the clock-out comes first.
    return sorted(rows, key=lambda r: (r.uuid != uuid, r.pk))


def registration_accept(
    *, data: RegistrationInput, source: str = "terminal", actor: Actor = SYSTEM
) -> Accepted:
    """Store a registration (a bundle: one per job) after checking it; a UUID seen before
    returns what was stored the first time and changes nothing."""
    existing = _existing(data.uuid)
    if existing:
        return Accepted(existing, replayed=True)
    try:
        with transaction.atomic():
            if data.worker is not None:
                # One registration per worker at a time: its state is read, then extended.
                lock_worker(data.worker.pk)
                # The same UUID may have been stored while this one waited for the lock.
                existing = _existing(data.uuid)
                if existing:
                    return Accepted(existing, replayed=True)
            _lock_flow(data)
            registration_check(data, source=source)
            blockers = hooks.acceptance_blockers(data=data, actor=actor)
            if blockers:
                raise _conflict(f"{'; '.join(blockers)}.", "registration_not_here")
            rows = RawRegistration.objects.bulk_create(_rows_for(data, source))
            hooks.run_acceptance_effects(data=data, rows=rows)
    except IntegrityError:
        # The same UUID posted twice at once: the other one won; answer what it stored.
        existing = _existing(data.uuid)
        if existing:
            return Accepted(existing, replayed=True)
        raise
    transaction.on_commit(processor_nudge)
    return Accepted(rows, replayed=False)


# --- Supervisor actions on the processing log --------------------------------------------------


@transaction.atomic
def registration_process_again(*, registration: RawRegistration, actor: Actor) -> RawRegistration:
    """A failed registration goes back to the queue (after its cause was fixed)."""
    registration = RawRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.status != RegistrationStatus.FAILED:
        raise _conflict(
            f"Registration {registration.uuid} is {registration.get_status_display().lower()}: "
            "only a failed one can be processed again.",
            "registration_not_failed",
            status=registration.status,
        )
    registration.status = RegistrationStatus.NEW
    registration.save(update_fields=["status"])
    ProcessingLogEntry.objects.create(
        registration=registration,
        outcome=ProcessingOutcome.REQUEUED,
        message="queued to process again",
        actor=actor.label,
    )
    transaction.on_commit(processor_nudge)
    return registration


@transaction.atomic
def registration_cancel(
    *, registration: RawRegistration, actor: Actor, reason: str = ""
) -> RawRegistration:
    """A new or failed registration is given up: it will never be processed, and the ones
    it held in its lane go on."""
    registration = RawRegistration.objects.select_for_update().get(pk=registration.pk)
    if registration.status not in (RegistrationStatus.NEW, RegistrationStatus.FAILED):
        raise _conflict(
            f"Registration {registration.uuid} is {registration.get_status_display().lower()}: "
            "only a new or failed one can be canceled.",
            "registration_not_cancelable",
            status=registration.status,
        )
    registration.status = RegistrationStatus.CANCELED
    registration.save(update_fields=["status"])
    ProcessingLogEntry.objects.create(
        registration=registration,
        outcome=ProcessingOutcome.CANCELED,
        message=reason or "canceled",
        actor=actor.label,
    )
    transaction.on_commit(processor_nudge)
    return registration
