"""A worker's day as a sequence: clocked in or not, on a break, on an indirect activity, on
which jobs. One pure step function holds every rule of that sequence; acceptance runs it for a
new registration at its own time and then again over every registration the worker already
has after that time, so a backdated registration cannot contradict what came later (a clock-in
at 11:00 for a worker clocked in since 12:13 from a later post, a start 15 minutes ago while
the worker is on another job since).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from django.db.models import Case, Max, Q, When

from ..choices import JOB_KINDS, JOB_START_KINDS, RegistrationKind, RegistrationStatus
from ..models import IndirectActivity, RawRegistration, Worker

K = RegistrationKind


class Contradiction(Exception):
    """A registration that cannot follow the worker's state: code and message."""

    def __init__(self, code: str, message: str, **fields) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = {key: str(value) for key, value in fields.items()}


@dataclass(frozen=True)
class Move:
    """One registration as the worker's timeline sees it."""

    kind: str
    job_id: int | None = None
    stops_job: bool = False
    indirect_id: int | None = None
    bundle_uuid: UUID | None = None

    @classmethod
    def of(cls, registration) -> Move:
        return cls(
            kind=registration.kind,
            job_id=registration.job_id,
            stops_job=registration.stops_job,
            indirect_id=registration.indirect_activity_id,
            bundle_uuid=registration.bundle_uuid,
        )


@dataclass(frozen=True)
class Shift:
    """A worker's state at a point in time."""

    clocked_in: bool = False
    on_break: bool = False
    indirect_id: int | None = None
    # Open jobs, each with the bundle it was started in (None: on its own).
    open_jobs: dict[int, UUID | None] = field(default_factory=dict)


def _stopping(move: Move) -> bool:
    return move.kind == K.STOP_JOB or (move.kind in JOB_KINDS and move.stops_job)


def step(shift: Shift, move: Move, *, badge: str) -> Shift:
    """The worker's state after `move`, or Contradiction when it cannot follow `shift`."""
    kind = move.kind
    if kind == K.CLOCK_IN:
        if shift.clocked_in:
            raise Contradiction("worker_already_clocked_in", f"{badge} is already clocked in.")
        return replace(shift, clocked_in=True)
    if kind == K.ABSENCE:
        return shift
    # Stopping a job needs the job open, not a clock-in (a clock-out stops them itself).
    if not _stopping(move) and not shift.clocked_in:
        raise Contradiction("worker_not_clocked_in", f"{badge} is not clocked in.")
    if kind == K.CLOCK_OUT:
        # The jobs still running are stopped by their own stop registrations, made with it.
        return replace(shift, clocked_in=False, on_break=False, indirect_id=None)
    if kind == K.BREAK_START:
        if shift.on_break:
            raise Contradiction("worker_on_break", f"{badge} is already on a break.")
        return replace(shift, on_break=True)
    if kind == K.BREAK_STOP:
        if not shift.on_break:
            raise Contradiction("worker_not_on_break", f"{badge} is not on a break.")
        return replace(shift, on_break=False)
    if kind in (*JOB_START_KINDS, K.INDIRECT_START) and shift.on_break:
        raise Contradiction("worker_on_break", f"{badge} is on a break: stop the break first.")
    if kind == K.INDIRECT_START:
        if shift.indirect_id is not None:
            raise Contradiction("indirect_running", f"{badge} is already on an indirect activity.")
        return replace(shift, indirect_id=move.indirect_id)
    if kind == K.INDIRECT_STOP:
        if shift.indirect_id is None or move.indirect_id not in (None, shift.indirect_id):
            raise Contradiction(
                "indirect_not_running", f"{badge} has not started that indirect activity."
            )
        return replace(shift, indirect_id=None)
    if kind in JOB_START_KINDS:
        return _start(shift, move, badge)
    if kind in JOB_KINDS:
        if move.job_id not in shift.open_jobs:
            raise Contradiction(
                "job_not_started",
                f"{badge} has not started job {move.job_id}: start it first.",
                job=move.job_id,
            )
        if _stopping(move):
            return replace(
                shift, open_jobs={j: b for j, b in shift.open_jobs.items() if j != move.job_id}
            )
    return shift


def _start(shift: Shift, move: Move, badge: str) -> Shift:
    if move.job_id in shift.open_jobs:
        raise Contradiction(
            "job_already_started",
            f"{badge} has already started job {move.job_id}.",
            job=move.job_id,
        )
    others = sorted(
        job
        for job, bundle in shift.open_jobs.items()
        if move.bundle_uuid is None or bundle != move.bundle_uuid
    )
    if others:
        open_jobs = ", ".join(map(str, others))
        raise Contradiction(
            "worker_busy",
            f"{badge} is still on job(s) {open_jobs}: stop them first, or start the jobs "
            "together as a bundle.",
            open_jobs=",".join(map(str, others)),
        )
    return replace(shift, open_jobs={**shift.open_jobs, move.job_id: move.bundle_uuid})


# --- The worker's state at a point in time, from the registrations accepted ------------------


def _alive(worker: Worker, at: datetime):
    return RawRegistration.objects.filter(worker=worker, occurred_at__lte=at).exclude(
        status=RegistrationStatus.CANCELED
    )


def last_of(worker: Worker, at: datetime, kinds) -> RawRegistration | None:
    return _alive(worker, at).filter(kind__in=kinds).order_by("-occurred_at", "-id").first()


def worker_clocked_in(worker: Worker, at: datetime) -> bool:
    last = last_of(worker, at, (K.CLOCK_IN, K.CLOCK_OUT))
    return last is not None and last.kind == K.CLOCK_IN


def worker_on_break(worker: Worker, at: datetime) -> bool:
    last = last_of(worker, at, (K.BREAK_START, K.BREAK_STOP, K.CLOCK_OUT))
    return last is not None and last.kind == K.BREAK_START


def worker_indirect_activity(worker: Worker, at: datetime) -> IndirectActivity | None:
    last = last_of(worker, at, (K.INDIRECT_START, K.INDIRECT_STOP, K.CLOCK_OUT))
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


def shift_at(worker: Worker, at: datetime) -> tuple[Shift, IndirectActivity | None]:
    """The worker's state at `at` (and the indirect activity running then, if any)."""
    indirect = worker_indirect_activity(worker, at)
    shift = Shift(
        clocked_in=worker_clocked_in(worker, at),
        on_break=worker_on_break(worker, at),
        indirect_id=indirect.pk if indirect else None,
        open_jobs=dict.fromkeys(worker_open_job_ids(worker, at)),
    )
    return shift, indirect
