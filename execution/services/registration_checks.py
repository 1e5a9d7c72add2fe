"""The rules a registration must meet to be stored, checked at the door (registrations.py) with
what they read already locked: against the worker's and the job's state at the time the
event happened, and against what came after it. The worker's later registrations must still
follow (worker_timeline.py), and a quantity must fit the material's flow from its time on
(limits.py); the time must be within the backdating window and the clock skew. A refusal
raises a 4xx error with a code (docs/execution.md has the table).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.choices import Tracking
from inventory.exceptions import InvalidMovement
from inventory.fields import ZERO
from inventory.fields import show as _show
from inventory.models import Location, validate_quantity_for_unit
from inventory.selectors import quantity_to_item_unit
from mesproject.errors import ApplicationError, MissingMasterData, NotAllowed
from orders.choices import OrderStatus, ReasonKind
from orders.models import ProductionOrder

from ..choices import (
    JOB_KINDS,
    JOB_START_KINDS,
    AttendanceStatus,
    JobKind,
    JobStatus,
    RegistrationKind,
    RegistrationStatus,
)
from ..models import AttendanceDay, Job, RawRegistration, Worker
from . import limits
from .worker_timeline import Contradiction, Move, last_of, shift_at, step

if TYPE_CHECKING:
    from .registrations import RegistrationInput

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


def _refuse(message: str, code: str, **fields) -> ApplicationError:
    return ApplicationError(message, code=code, fields={k: str(v) for k, v in fields.items()})


def _conflict(message: str, code: str, **fields) -> NotAllowed:
    return NotAllowed(message, code=code, fields={k: str(v) for k, v in fields.items()})


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


def _check_quantity(
    value: Decimal, unit, name: str, order: ProductionOrder | None = None
) -> Decimal:
    """A decimal, not negative, within the unit's decimals; an order's quantity must also
    be whole in the product's unit, where processing books and flushes it."""
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
    if order is not None and value and order.unit_id != order.item.unit_id:
        try:
            quantity_to_item_unit(item=order.item, quantity=value, unit=order.unit)
        except InvalidMovement as exc:  # e.g. 0.1 kg of a bike sold by the piece
            raise _refuse(exc.message, "quantity_precision", **{name: value}) from exc
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
    _check_quantity(data.quantity_good, unit, "quantity_good", job.order)
    _check_quantity(data.quantity_scrap, unit, "quantity_scrap", job.order)
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
    _check_quantity(quantity, job.order.unit, "quantity", job.order)
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
    _check_quantity(data.quantity_good, unit, "quantity_good", order)
    _check_quantity(data.quantity_scrap, unit, "quantity_scrap", order)
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
