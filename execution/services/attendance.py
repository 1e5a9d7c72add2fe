"""Time and attendance, the Finalize side of execution: a worker's day is calculated from the
processed registrations, approved by a supervisor, then transferred to payroll as the pay
basis. An approved or transferred day is locked: registrations on it are refused
(registration_checks.py) and it is not recalculated.

Which day a registration belongs to: days are local dates in settings.TIME_ZONE. A clock-in
starts a shift and the shift belongs to the day of its clock-in, even when it ends after
midnight; breaks, indirect activities and job time inside a shift belong to the shift's day.
An absence belongs to the shift it was registered in, else to its own local date.

Lock order, everywhere: the Worker row, then the AttendanceDay row(s). registration_accept
locks the Worker row too, so an approval and a registration on the same worker never
interleave (the registration would otherwise slip into a day being approved).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from mesproject.deployment import refuse_off_hub
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.locks import lock_row
from orders.services import Actor

from ..choices import AttendanceStatus, RegistrationKind, RegistrationStatus
from ..hooks import run_pay_basis_effects
from ..models import AttendanceDay, RawRegistration, RouteCardLine, Worker

logger = logging.getLogger(__name__)

K = RegistrationKind
S = AttendanceStatus
ZERO = Decimal("0.00")
PLACES = Decimal("0.01")
CLOCK_KINDS = (K.CLOCK_IN, K.CLOCK_OUT)
IN_SHIFT_KINDS = (K.BREAK_START, K.BREAK_STOP, K.INDIRECT_START, K.INDIRECT_STOP, K.ABSENCE)
LOCKED = (S.APPROVED, S.TRANSFERRED)
PAY_BASIS_HEADER = (
    "badge_id",
    "name",
    "date",
    "pay_agreement",
    "worked_minutes",
    "paid_minutes",
    "overtime_minutes",
    "absence_minutes",
    "break_minutes",
    "indirect_minutes",
    "job_minutes",
)

Interval = tuple[datetime, datetime]


# --- Days and shifts ---------------------------------------------------------------------------


def day_bounds(day: Date) -> tuple[datetime, datetime]:
    """[start, end) of a local date in settings.TIME_ZONE (23 or 25 hours on DST days)."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


def _minutes(delta: timedelta) -> Decimal:
    # Integer microseconds: a float of seconds would round before we do.
    return Decimal(delta // timedelta(microseconds=1)) / Decimal(60_000_000)


def _q(value: Decimal) -> Decimal:
    return value.quantize(PLACES)


def _processed(worker: Worker):
    return RawRegistration.objects.filter(worker=worker, status=RegistrationStatus.PROCESSED)


@dataclass
class Shifts:
    closed: list[Interval]  # the day's shifts: clock-in on the day, paired with its clock-out
    carried: Interval | None  # an earlier day's shift that runs past midnight into this day
    open_clock_ins: list[datetime]  # clock-ins of the day without a processed clock-out


def _shifts(worker: Worker, day: Date) -> Shifts:
    start, end = day_bounds(day)
    clocks = _processed(worker).filter(kind__in=CLOCK_KINDS).order_by("occurred_at", "pk")
    events = []
    before = clocks.filter(occurred_at__lt=start).last()
    if before is not None and before.kind == K.CLOCK_IN:
        events.append(before)
    events.extend(clocks.filter(occurred_at__gte=start, occurred_at__lt=end))
    if events and events[-1].kind == K.CLOCK_IN:
        # The last shift of the day may end after midnight: its clock-out is the next one.
        after = clocks.filter(occurred_at__gte=end).first()
        if after is not None:
            events.append(after)
    shifts = Shifts(closed=[], carried=None, open_clock_ins=[])
    open_in = None
    for registration in events:
        if registration.kind == K.CLOCK_IN:
            if open_in is not None and open_in.occurred_at >= start:
                shifts.open_clock_ins.append(open_in.occurred_at)
            open_in = registration
        elif open_in is not None:
            shift = (open_in.occurred_at, registration.occurred_at)
            if open_in.occurred_at < start:
                shifts.carried = shift
            else:
                shifts.closed.append(shift)
            open_in = None
    if open_in is not None and open_in.occurred_at >= start:
        shifts.open_clock_ins.append(open_in.occurred_at)
    return shifts


def _inside(at: datetime, interval: Interval | None) -> bool:
    return interval is not None and interval[0] <= at <= interval[1]


def _pairs(registrations, shift: Interval, start_kind: str, stop_kind: str):
    """(start, stop, starting registration) of each start→stop pair inside a shift; one still
    open at clock-out ends at clock-out."""
    pairs, opened = [], None
    for registration in registrations:
        if not _inside(registration.occurred_at, shift):
            continue
        if registration.kind == start_kind and opened is None:
            opened = registration
        elif registration.kind == stop_kind and opened is not None:
            pairs.append((opened.occurred_at, registration.occurred_at, opened))
            opened = None
    if opened is not None:
        pairs.append((opened.occurred_at, shift[1], opened))
    return pairs


def _without(interval: Interval, cuts: list[Interval]) -> timedelta:
    """The length of an interval minus what the cuts (breaks) cover of it."""
    start, stop = interval
    total = stop - start
    for cut_start, cut_stop in cuts:
        overlap = min(stop, cut_stop) - max(start, cut_start)
        if overlap > timedelta(0):
            total -= overlap
    return max(total, timedelta(0))


@dataclass
class DayFigures:
    clocked_minutes: Decimal = ZERO
    break_minutes: Decimal = ZERO
    worked_minutes: Decimal = ZERO
    job_minutes: Decimal = ZERO
    indirect_minutes: Decimal = ZERO
    absence_minutes: Decimal = ZERO
    paid_minutes: Decimal = ZERO
    overtime_minutes: Decimal = ZERO


def attendance_figures(*, worker: Worker, date: Date) -> DayFigures:
    """The day's minutes from the worker's processed registrations; writes nothing.

    A shift whose clock-in has no (processed) clock-out yet is not counted at all, nor are the
    breaks, indirect activities and job time in it: it is counted once the clock-out is
    processed and the day is calculated again.
    """
    start, end = day_bounds(date)
    found = _shifts(worker, date)
    shifts, carried = found.closed, found.carried
    window_end = max([end, *(stop for _start, stop in shifts)])
    registrations = list(
        _processed(worker)
        .filter(kind__in=IN_SHIFT_KINDS, occurred_at__gte=start, occurred_at__lte=window_end)
        .select_related("absence_code", "indirect_activity")
        .order_by("occurred_at", "pk")
    )
    clocked = timedelta(0)
    breaks: list[Interval] = []
    indirect: list[tuple[Interval, bool]] = []
    for shift in shifts:
        clocked += shift[1] - shift[0]
        breaks += [(a, b) for a, b, _r in _pairs(registrations, shift, K.BREAK_START, K.BREAK_STOP)]
        indirect += [
            ((a, b), registration.indirect_activity.paid)
            for a, b, registration in _pairs(
                registrations, shift, K.INDIRECT_START, K.INDIRECT_STOP
            )
        ]
    break_time = sum((b - a for a, b in breaks), timedelta(0))
    # A break taken during an indirect activity interrupts it: that time is break time only,
    # so an unpaid activity is never deducted a second time for the same minutes.
    indirect_time = unpaid_indirect = timedelta(0)
    for interval, paid in indirect:
        length = _without(interval, breaks)
        indirect_time += length
        if not paid:
            unpaid_indirect += length
    absence = paid_absence = ZERO
    for registration in registrations:
        if registration.kind != K.ABSENCE:
            continue
        at = registration.occurred_at
        in_shift = any(_inside(at, shift) for shift in shifts)
        on_day = start <= at < end and not _inside(at, carried)
        if in_shift or on_day:
            absence += registration.absence_minutes
            if registration.absence_code.paid:
                paid_absence += registration.absence_minutes
    job_minutes = ZERO
    if shifts:
        in_shifts = Q()
        for shift_start, shift_stop in shifts:
            in_shifts |= Q(ended_at__gte=shift_start, ended_at__lte=shift_stop)
        # One OR filter: a line at the instant one shift ends and the next starts counts once.
        lines = RouteCardLine.objects.filter(in_shifts, worker=worker)
        job_minutes = lines.aggregate(total=Sum("minutes"))["total"] or ZERO
    agreement = worker.pay_agreement
    clocked_minutes = _q(_minutes(clocked))
    break_minutes = _q(_minutes(break_time))
    worked = clocked_minutes - break_minutes
    paid = worked + paid_absence - _q(_minutes(unpaid_indirect))
    if agreement.paid_breaks:
        paid += break_minutes
    return DayFigures(
        clocked_minutes=clocked_minutes,
        break_minutes=break_minutes,
        worked_minutes=worked,
        job_minutes=_q(job_minutes),
        indirect_minutes=_q(_minutes(indirect_time)),
        absence_minutes=_q(absence),
        paid_minutes=_q(paid),
        overtime_minutes=_q(max(ZERO, worked - agreement.overtime_after_minutes)),
    )


# --- Calculate ---------------------------------------------------------------------------------


def _lock_worker(worker_id: int) -> Worker:
    # of=self: the pay agreement is read, not locked (every worker on it would queue).
    return lock_row(Worker.objects.select_related("pay_agreement"), worker_id, of=("self",))


def _refuse_locked(day: AttendanceDay) -> None:
    if day.status in LOCKED:
        raise NotAllowed(
            f"The attendance day {day.date} of {day.worker.badge_id} is "
            f"{day.get_status_display().lower()}: un-approve it before calculating it again.",
            code="attendance_day_approved",
            fields={"date": str(day.date), "status": day.status},
        )


@transaction.atomic
def attendance_day_calculate(*, worker: Worker, date: Date, actor: Actor) -> AttendanceDay:
    """Calculate (or calculate again) a worker's day from the processed registrations.

    Only processed registrations count: one still new or failed is not in the figures yet.
    A shift whose clock-in has no processed clock-out is not counted (nor anything in it)
    until the clock-out is processed and the day is calculated again. An approved or
    transferred day is refused (NotAllowed attendance_day_approved).
    """
    worker = _lock_worker(worker.pk)
    day = AttendanceDay.objects.select_for_update().filter(worker=worker, date=date).first()
    if day is None:
        try:
            with transaction.atomic():
                day = AttendanceDay.objects.create(worker=worker, date=date)
        except IntegrityError:
            # Created by someone who does not lock the worker row first.
            day = AttendanceDay.objects.select_for_update().get(worker=worker, date=date)
    day.worker = worker
    _refuse_locked(day)
    figures = attendance_figures(worker=worker, date=date)
    for name, value in vars(figures).items():
        setattr(day, name, value)
    day.status = S.CALCULATED
    day.calculated_at = timezone.now()
    day._change_reason = f"calculated by {actor.label}"[:100]
    day.save()
    return day


def _workers_of(date: Date, site=None):
    """Workers with a processed clock-in or absence on the date: every other registration
    belongs to a shift that started with a clock-in."""
    start, end = day_bounds(date)
    registrations = RawRegistration.objects.filter(
        status=RegistrationStatus.PROCESSED,
        kind__in=(K.CLOCK_IN, K.ABSENCE),
        occurred_at__gte=start,
        occurred_at__lt=end,
    )
    workers = Worker.objects.filter(pk__in=registrations.values("worker_id"))
    if site is not None:
        workers = workers.filter(site=site)
    return workers.order_by("pk")


def attendance_days_calculate(*, date: Date, actor: Actor, site=None) -> list[AttendanceDay]:
    """Calculate the date for every worker (of the site) with registrations that day.

    Days already approved or transferred are left as they are and not returned: the nightly
    run must not stop on them. Each day is calculated in its own transaction, so one worker
    does not hold the locks of all the others.
    """
    days = []
    locked = set(
        AttendanceDay.objects.filter(date=date, status__in=LOCKED).values_list(
            "worker_id", flat=True
        )
    )
    for worker in _workers_of(date, site):
        if worker.pk in locked:
            logger.info("attendance %s %s is approved: not calculated", worker.badge_id, date)
            continue
        try:
            days.append(attendance_day_calculate(worker=worker, date=date, actor=actor))
        except NotAllowed:
            # Approved between the look-up above and now.
            logger.info("attendance %s %s is approved: not calculated", worker.badge_id, date)
    return days


# --- Approve, un-approve -----------------------------------------------------------------------


def _lock_day(day: AttendanceDay) -> AttendanceDay:
    _lock_worker(day.worker_id)
    return (
        AttendanceDay.objects.select_for_update(of=("self",))
        .select_related("worker")
        .get(pk=day.pk)
    )


def _check_up_to_date(day: AttendanceDay) -> None:
    """Approve what payroll will get: nothing of the day may still wait for the processor,
    no shift of the day may be open, and nothing processed since the calculation may be
    missing from the figures."""
    start, end = day_bounds(day.date)
    shifts = _shifts(day.worker, day.date)
    # The day's registrations: its local date, and its last shift up to a clock-out that
    # may fall after midnight.
    window_end = max([end, *(stop for _start, stop in shifts.closed)])
    of_day = RawRegistration.objects.filter(worker_id=day.worker_id, occurred_at__gte=start).filter(
        Q(occurred_at__lt=end) | Q(occurred_at__lte=window_end)
    )
    pending = of_day.filter(status__in=(RegistrationStatus.NEW, RegistrationStatus.FAILED))
    if pending.exists():
        raise NotAllowed(
            f"{day.worker.badge_id} has registrations on {day.date} that are not processed yet "
            "(new or failed): process or cancel them, then calculate the day again.",
            code="attendance_day_pending",
            fields={"date": str(day.date)},
        )
    open_clock_ins = shifts.open_clock_ins
    if open_clock_ins:
        # Its clock-out may come after midnight, on a day that is not locked: approving now
        # would leave the whole shift out of every day's pay.
        at = timezone.localtime(open_clock_ins[0], timezone.get_default_timezone())
        raise NotAllowed(
            f"{day.worker.badge_id} clocked in on {day.date} at {at:%H:%M} and has not clocked "
            "out (or the clock-out is not processed): register the clock-out, then calculate "
            "the day again.",
            code="attendance_day_open_shift",
            fields={"date": str(day.date), "clock_in": open_clock_ins[0].isoformat()},
        )
    stale = of_day.filter(status=RegistrationStatus.PROCESSED)
    if day.calculated_at is not None:
        stale = stale.filter(processed_at__gt=day.calculated_at)
    if day.calculated_at is None or stale.exists():
        raise NotAllowed(
            f"Registrations of {day.worker.badge_id} on {day.date} were processed after the "
            "calculation: calculate the day again before approving it.",
            code="attendance_day_stale",
            fields={"date": str(day.date)},
        )


@transaction.atomic
def attendance_day_approve(*, day: AttendanceDay, actor: Actor) -> AttendanceDay:
    """Calculated → approved: the day is locked against registrations and recalculation."""
    refuse_off_hub("Time and attendance approval")
    day = _lock_day(day)
    if day.status == S.TRANSFERRED:
        raise NotAllowed(
            f"The attendance day {day.date} of {day.worker.badge_id} is already transferred.",
            code="attendance_day_transferred",
            fields={"date": str(day.date)},
        )
    if day.status == S.APPROVED:
        raise NotAllowed(
            f"The attendance day {day.date} of {day.worker.badge_id} is already approved.",
            code="attendance_day_approved",
            fields={"date": str(day.date)},
        )
    _check_up_to_date(day)
    day.status = S.APPROVED
    day.approved_by = actor.label
    day.approved_at = timezone.now()
    day._change_reason = f"approved by {actor.label}"[:100]
    day.save(update_fields=["status", "approved_by", "approved_at"])
    return day


@transaction.atomic
def attendance_day_unapprove(*, day: AttendanceDay, actor: Actor) -> AttendanceDay:
    """Approved → calculated, so registrations can be corrected; payroll has not seen it yet."""
    refuse_off_hub("Time and attendance approval")
    day = _lock_day(day)
    if day.status == S.TRANSFERRED:
        raise NotAllowed(
            f"The attendance day {day.date} of {day.worker.badge_id} is transferred to payroll: "
            "it can no longer be un-approved; correct it in payroll.",
            code="attendance_day_transferred",
            fields={"date": str(day.date)},
        )
    if day.status != S.APPROVED:
        raise NotAllowed(
            f"The attendance day {day.date} of {day.worker.badge_id} is not approved.",
            code="attendance_day_not_approved",
            fields={"date": str(day.date)},
        )
    day.status = S.CALCULATED
    day.approved_by = ""
    day.approved_at = None
    day._change_reason = f"un-approved by {actor.label}"[:100]
    day.save(update_fields=["status", "approved_by", "approved_at"])
    return day


# --- Pay basis and transfer --------------------------------------------------------------------


def _ordered(days: Iterable[AttendanceDay]) -> list[AttendanceDay]:
    return sorted(days, key=lambda d: (d.date, d.worker.badge_id, d.pk))


def pay_basis_csv(*, days: Iterable[AttendanceDay]) -> str:
    """The pay basis of the days as CSV (one row per worker and day, by date then badge).
    Pass days with worker__pay_agreement selected to avoid a query per row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAY_BASIS_HEADER)
    for day in _ordered(days):
        writer.writerow(
            [
                day.worker.badge_id,
                day.worker.name,
                day.date.isoformat(),
                day.worker.pay_agreement.code,
                *(
                    f"{getattr(day, name):.2f}"
                    for name in PAY_BASIS_HEADER[4:]  # the minute columns
                ),
            ]
        )
    return out.getvalue()


@transaction.atomic
def attendance_days_transfer(*, days: Iterable[AttendanceDay], actor: Actor) -> str:
    """Approved → transferred (locked for good), all or nothing; returns the pay basis CSV
    and hands it with the days to the registered pay-basis effects (integration), in the
    same transaction: the transfer and what it sends are never apart."""
    refuse_off_hub("Time and attendance approval")
    ids = sorted({day.pk for day in days})
    if not ids:
        raise ApplicationError("Select the attendance days to transfer.", code="days_required")
    locked = list(
        AttendanceDay.objects.select_for_update(of=("self",))
        .select_related("worker__pay_agreement")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    refused = [day for day in locked if day.status != S.APPROVED]
    if refused:
        names = ", ".join(f"{d.worker.badge_id} {d.date} ({d.status})" for d in refused[:10])
        raise NotAllowed(
            f"Only approved days can be transferred to payroll; not: {names}.",
            code="attendance_day_not_approved",
            fields={"days": ",".join(str(d.pk) for d in refused)},
        )
    now = timezone.now()
    for day in locked:
        day.status = S.TRANSFERRED
        day.transferred_at = now
        day._change_reason = f"transferred by {actor.label}"[:100]
        day.save(update_fields=["status", "transferred_at"])
    text = pay_basis_csv(days=locked)
    run_pay_basis_effects(days=_ordered(locked), csv_text=text)
    return text
