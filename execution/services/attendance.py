"""Time and attendance, the Finalize side of execution: a worker's day is calculated from the
processed registrations, approved by a supervisor, then transferred to payroll as the pay
basis. An approved or transferred day is locked: registrations on it are refused
(registration_checks.py) and it is not recalculated.

This module calculates, approves and un-approves a day; attendance_figures.py says which
day a registration belongs to and counts the day's minutes, attendance_pay.py transfers
approved days to payroll.

Lock order, everywhere: the Worker row, then the AttendanceDay row(s). registration_accept
locks the Worker row too, so an approval and a registration on the same worker never
interleave (the registration would otherwise slip into a day being approved).
"""

from __future__ import annotations

import logging
from datetime import date as Date

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from mesproject.actors import Actor
from mesproject.deployment import refuse_off_hub
from mesproject.errors import NotAllowed
from mesproject.lanes import move
from mesproject.locks import lock_row

from ..choices import AttendanceStatus, RegistrationStatus
from ..models import AttendanceDay, RawRegistration, Worker
from .attendance_figures import K, _shifts, attendance_figures, day_bounds

logger = logging.getLogger(__name__)

S = AttendanceStatus
LOCKED = (S.APPROVED, S.TRANSFERRED)


def _lock_worker(worker_id: int) -> Worker:
    # of=self: the pay agreement is read, not locked (every worker on it would queue).
    return lock_row(Worker.objects.select_related("pay_agreement"), worker_id, of=("self",))


def _locked(day: AttendanceDay) -> NotAllowed:
    return NotAllowed(
        f"The attendance day {day.date} of {day.worker.badge_id} is "
        f"{day.get_status_display().lower()}: un-approve it before calculating it again.",
        code="attendance_day_approved",
        fields={"date": str(day.date), "status": day.status},
    )


def _refuse_locked(day: AttendanceDay) -> None:
    if day.status in LOCKED:
        raise _locked(day)


def _refusal(day: AttendanceDay, refusals: dict[str, tuple[str, str]]) -> NotAllowed:
    """The coded refusal of a transition the day's status does not allow."""
    text, code = refusals[day.status]
    return NotAllowed(
        f"The attendance day {day.date} of {day.worker.badge_id} {text}",
        code=code,
        fields={"date": str(day.date)},
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
    move(day, "calculate", lambda: _locked(day), timezone.now())
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
    refusals = {
        S.TRANSFERRED: ("is already transferred.", "attendance_day_transferred"),
        S.APPROVED: ("is already approved.", "attendance_day_approved"),
    }
    if day.status in refusals:
        raise _refusal(day, refusals)
    _check_up_to_date(day)
    move(day, "approve", lambda: _refusal(day, refusals), actor, timezone.now())
    day._change_reason = f"approved by {actor.label}"[:100]
    day.save(update_fields=["status", "approved_by", "approved_by_actor", "approved_at"])
    return day


@transaction.atomic
def attendance_day_unapprove(*, day: AttendanceDay, actor: Actor) -> AttendanceDay:
    """Approved → calculated, so registrations can be corrected; payroll has not seen it yet."""
    refuse_off_hub("Time and attendance approval")
    day = _lock_day(day)
    refusals = {
        S.TRANSFERRED: (
            "is transferred to payroll: it can no longer be un-approved; correct it in payroll.",
            "attendance_day_transferred",
        ),
        S.CALCULATED: ("is not approved.", "attendance_day_not_approved"),
    }
    move(day, "unapprove", lambda: _refusal(day, refusals))
    day._change_reason = f"un-approved by {actor.label}"[:100]
    day.save(update_fields=["status", "approved_by", "approved_by_actor", "approved_at"])
    return day
