"""Accepting shop-floor registrations: validate against the worker's and the job's state at the
time the event happened, store, answer at once. The processor (processing.py) does the rest.

State is read from the registrations already accepted (not only the processed ones): a
terminal posts "start" and "progress" seconds apart, long before the processor runs. It is
evaluated at the event's own time, so a terminal that was offline may post its backlog late.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Max, Q, Sum, When
from django.utils import timezone

from inventory.choices import Tracking
from inventory.fields import ZERO
from inventory.models import Location, validate_quantity_for_unit
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed
from orders.choices import OrderStatus, ReasonKind
from orders.models import ProductionOrder, ProductionOrderMaterial, ReasonCode, Resource
from orders.services import SYSTEM, Actor

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
from .nudge import processor_nudge

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


@dataclass
class Accepted:
    """What the endpoint answers: the stored rows, and whether this post was a replay."""

    registrations: list[RawRegistration]
    replayed: bool


def lock_worker(worker_id: int) -> Worker | None:
    """The worker row, locked until the end of the transaction: one registration per worker
    at a time (a no-op lock on SQLite)."""
    return Worker.objects.select_for_update(no_key=True).filter(pk=worker_id).first()


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


# --- The worker's and the job's state at a point in time --------------------------------------


def _alive(worker: Worker, at: datetime):
    return RawRegistration.objects.filter(worker=worker, occurred_at__lte=at).exclude(
        status=RegistrationStatus.CANCELED
    )


def _last_of(worker: Worker, at: datetime, kinds) -> RawRegistration | None:
    return _alive(worker, at).filter(kind__in=kinds).order_by("-occurred_at", "-id").first()


def worker_clocked_in(worker: Worker, at: datetime) -> bool:
    last = _last_of(worker, at, (K.CLOCK_IN, K.CLOCK_OUT))
    return last is not None and last.kind == K.CLOCK_IN


def worker_on_break(worker: Worker, at: datetime) -> bool:
    last = _last_of(worker, at, (K.BREAK_START, K.BREAK_STOP, K.CLOCK_OUT))
    return last is not None and last.kind == K.BREAK_START


def worker_indirect_activity(worker: Worker, at: datetime) -> IndirectActivity | None:
    last = _last_of(worker, at, (K.INDIRECT_START, K.INDIRECT_STOP, K.CLOCK_OUT))
    if last is not None and last.kind == K.INDIRECT_START:
        return last.indirect_activity
    return None


def worker_open_job_ids(worker: Worker, at: datetime) -> list[int]:
    """Jobs the worker started and has not stopped by then, in one aggregate query."""
    rows = (
        _alive(worker, at)
        .filter(job__isnull=False)
        .filter(Q(kind__in=JOB_START_KINDS) | Q(stops_job=True))
        .values("job_id")
        .annotate(
            last_start=Max(Case(When(kind__in=JOB_START_KINDS, then="occurred_at"))),
            last_stop=Max(Case(When(stops_job=True, then="occurred_at"))),
        )
    )
    return sorted(
        row["job_id"]
        for row in rows
        if row["last_start"] is not None
        and (row["last_stop"] is None or row["last_stop"] < row["last_start"])
    )


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
    last = _last_of(worker, at, (K.CLOCK_IN, K.CLOCK_OUT))
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


def _check_worker_state(data: RegistrationInput) -> None:
    worker, at, kind = data.worker, data.occurred_at, data.kind
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
    if kind == K.CLOCK_IN:
        if worker_clocked_in(worker, at):
            raise _conflict(
                f"{worker.badge_id} is already clocked in.", "worker_already_clocked_in"
            )
        return
    if kind == K.ABSENCE:
        return
    # Stopping a job needs the job open (checked with the job), not a clock-in.
    stopping = kind == K.STOP_JOB or (kind in JOB_KINDS and data.stops_job)
    if not stopping and not worker_clocked_in(worker, at):
        raise _conflict(
            f"{worker.badge_id} is not clocked in.", "worker_not_clocked_in", at=at.isoformat()
        )
    on_break = worker_on_break(worker, at)
    if kind == K.BREAK_START and on_break:
        raise _conflict(f"{worker.badge_id} is already on a break.", "worker_on_break")
    if kind == K.BREAK_STOP and not on_break:
        raise _conflict(f"{worker.badge_id} is not on a break.", "worker_not_on_break")
    if kind in (K.START_JOB, K.BUNDLE, K.INDIRECT_START) and on_break:
        raise _conflict(
            f"{worker.badge_id} is on a break: stop the break first.", "worker_on_break"
        )
    indirect = worker_indirect_activity(worker, at)
    if kind == K.INDIRECT_START and indirect is not None:
        raise _conflict(
            f"{worker.badge_id} is already on {indirect.code}: stop it first.",
            "indirect_running",
        )
    if kind == K.INDIRECT_STOP:
        if indirect is None:
            raise _conflict(
                f"{worker.badge_id} has no indirect activity running.", "indirect_not_running"
            )
        if data.indirect_activity and data.indirect_activity.pk != indirect.pk:
            raise _conflict(
                f"{worker.badge_id} is on {indirect.code}, not {data.indirect_activity.code}.",
                "indirect_not_running",
            )
        data.indirect_activity = indirect


def _check_job_registration(data: RegistrationInput) -> None:
    kind, worker, at = data.kind, data.worker, data.occurred_at
    jobs = data.jobs if kind == K.BUNDLE else [data.job]
    if any(job is None for job in jobs) or not jobs:
        raise _refuse(f"A {kind} registration names its job.", "job_required", job="required")
    if kind == K.BUNDLE and len({j.pk for j in jobs}) != len(jobs):
        raise _refuse("A bundle names each job once.", "bundle_duplicate_job")
    if kind == K.BUNDLE and len(jobs) < 2:
        raise _refuse("A bundle starts two jobs or more.", "bundle_too_small")
    open_ids = worker_open_job_ids(worker, at) if worker else []
    for job in jobs:
        _check_job(job, starting=kind in JOB_START_KINDS)
    if kind in JOB_START_KINDS:
        for job in jobs:
            blockers = hooks.start_blockers(job=job)
            if blockers:
                raise _conflict(
                    f"Job {job} cannot start: {'; '.join(blockers)}.",
                    "job_start_blocked",
                    job=job.pk,
                )
            if job.pk in open_ids:
                raise _conflict(
                    f"{worker.badge_id} has already started job {job}.",
                    "job_already_started",
                    job=job.pk,
                )
        if open_ids:
            raise _conflict(
                f"{worker.badge_id} is still on job(s) {', '.join(map(str, open_ids))}: stop "
                "them first, or start the jobs together as a bundle.",
                "worker_busy",
                open_jobs=",".join(map(str, open_ids)),
            )
        return
    job = data.job
    if worker is not None:
        if job.pk not in open_ids:
            raise _conflict(
                f"{worker.badge_id} has not started job {job}: start it first.",
                "job_not_started",
                job=job.pk,
            )
    elif not job_started(job, at):
        raise _conflict(
            f"Job {job} has never been started: start it first.", "job_not_started", job=job.pk
        )
    unit = job.order.unit
    _check_quantity(data.quantity_good, unit, "quantity_good")
    _check_quantity(data.quantity_scrap, unit, "quantity_scrap")
    _check_reason(data)
    if job.kind == JobKind.SETUP and data.quantity_good > 0:
        raise _refuse(
            f"Job {job} is a setup job: it reports no good quantity.", "setup_job_no_output"
        )
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


def _default_start_quantity(job: Job) -> Decimal:
    """What is left of the job to start: its plan less what was started, counting the starts
    accepted but not yet processed (a second worker joining the job starts nothing more)."""
    if job.kind != JobKind.PROCESS:
        return ZERO
    pending = (
        RawRegistration.objects.filter(
            job=job,
            kind__in=JOB_START_KINDS,
            status__in=(RegistrationStatus.NEW, RegistrationStatus.FAILED),
        ).aggregate(total=Sum("quantity"))["total"]
        or ZERO
    )
    return max(ZERO, job.planned_quantity - job.quantity_started - pending)


def registration_check(data: RegistrationInput) -> None:
    """Every rule a registration must meet to be stored; raises a 4xx error or returns."""
    kind = data.kind
    if kind not in K.values:
        raise _refuse(f"Unknown registration kind {kind!r}.", "kind_unknown", kind=kind)
    if data.occurred_at is None or timezone.is_naive(data.occurred_at):
        raise _refuse("occurred_at needs a time zone.", "occurred_at_invalid")
    if data.occurred_at > timezone.now() + timedelta(minutes=5):
        raise _refuse("occurred_at is in the future.", "occurred_at_future")
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
            if data.quantity is None:
                data.quantity = _default_start_quantity(data.job)
            _check_quantity(data.quantity, data.job.order.unit, "quantity")
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
                quantity=_default_start_quantity(job),
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
            registration_check(data)
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
