"""The figures of a worker's day (its minutes), read from the processed registrations.

Which day a registration belongs to: days are local dates in settings.TIME_ZONE. A clock-in
starts a shift and the shift belongs to the day of its clock-in, even when it ends after
midnight; breaks, indirect activities and job time inside a shift belong to the shift's day.
An absence belongs to the shift it was registered in, else to its own local date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from ..choices import RegistrationKind, RegistrationStatus
from ..models import RawRegistration, RouteCardLine, Worker

K = RegistrationKind
ZERO = Decimal("0.00")
PLACES = Decimal("0.01")
CLOCK_KINDS = (K.CLOCK_IN, K.CLOCK_OUT)
IN_SHIFT_KINDS = (K.BREAK_START, K.BREAK_STOP, K.INDIRECT_START, K.INDIRECT_STOP, K.ABSENCE)

Interval = tuple[datetime, datetime]


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
