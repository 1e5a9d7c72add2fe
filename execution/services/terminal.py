"""The shop-floor terminal: a worker's PIN, and what the terminal screen reads about a worker
and a resource. Registrations themselves go through registrations.registration_accept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from mesproject.errors import ApplicationError, NotAllowed
from orders.choices import OrderStatus
from orders.models import Resource

from ..choices import JOB_START_KINDS, JobKind, JobStatus, RegistrationStatus
from ..models import IndirectActivity, Job, RawRegistration, Worker
from .limits import last_operations
from .worker_timeline import (
    worker_clocked_in,
    worker_indirect_activity,
    worker_on_break,
    worker_open_job_ids,
)

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
# A PIN is short: after this many wrong tries the badge is locked for a while, so a PIN
# cannot be guessed at a terminal.
PIN_MAX_FAILURES = 5
PIN_LOCK_SECONDS = 300
# Orders whose jobs a terminal offers.
OFFERED_ORDER_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS)


def _failures_key(badge_id: str) -> str:
    return f"terminal:pin-failures:{badge_id.strip().lower()}"


@transaction.atomic
def worker_set_pin(*, worker: Worker, pin: str) -> Worker:
    """Store a worker's PIN (hashed, never readable again)."""
    pin = (pin or "").strip()
    if not pin.isdigit() or not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise ApplicationError(
            f"A PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits.",
            code="pin_invalid",
            fields={"pin": "invalid"},
        )
    worker.pin_hash = make_password(pin)
    worker.save(update_fields=["pin_hash"])
    pin_failures_reset(badge_id=worker.badge_id)
    return worker


def pin_failures_reset(*, badge_id: str) -> None:
    cache.delete(_failures_key(badge_id))


def _pin_attempt(key: str) -> int:
    """Count one more PIN attempt on a badge and return the count, atomically: concurrent
    attempts each get their own number, so no more than PIN_MAX_FAILURES are ever checked
    (a read, then a write after the check, let 24 concurrent guesses all be checked)."""
    if cache.add(key, 1, timeout=PIN_LOCK_SECONDS):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired in between: this attempt starts a new count
        cache.add(key, 1, timeout=PIN_LOCK_SECONDS)
        return 1


def worker_check_pin(*, badge_id: str, pin: str) -> Worker | None:
    """The active worker with this badge and PIN, else None (which of the two was wrong is
    not told). Raises NotAllowed while the badge is locked after too many wrong PINs."""
    badge_id = (badge_id or "").strip()
    key = _failures_key(badge_id)
    # The attempt is counted before the PIN is checked, and a right PIN clears the count:
    # the count is the wrong PINs in a row plus the attempts now being checked.
    if badge_id and _pin_attempt(key) > PIN_MAX_FAILURES:
        raise NotAllowed(
            f"Too many wrong PINs for badge {badge_id}: wait {PIN_LOCK_SECONDS // 60} minutes "
            "or ask your supervisor.",
            code="pin_locked",
        )
    worker = (
        Worker.objects.select_related("site", "pay_agreement")
        .filter(badge_id=badge_id, is_active=True)
        .first()
        if badge_id
        else None
    )
    if worker is None or not worker.pin_hash:
        # Hash anyway: an unknown badge takes as long to refuse as a wrong PIN.
        make_password(pin or "")
        return None
    if not check_password(pin or "", worker.pin_hash):
        return None
    cache.delete(key)
    return worker


# --- What the terminal screen reads ------------------------------------------------------


@dataclass
class OpenJob:
    job: Job
    since: datetime | None
    # Report as finished is offered on the order's last operation only: it takes that
    # operation's output (execution/services/limits.py).
    finishes_order: bool = False


@dataclass
class WorkerState:
    """A worker's state at a moment, from the registrations accepted so far."""

    clocked_in: bool
    on_break: bool
    indirect_activity: IndirectActivity | None
    open_jobs: list[OpenJob] = field(default_factory=list)

    @property
    def open_job_ids(self) -> set[int]:
        return {open_job.job.pk for open_job in self.open_jobs}


def worker_state(*, worker: Worker, at: datetime) -> WorkerState:
    """Clocked in, on a break, on an indirect activity, and the jobs running (since when)."""
    open_ids = worker_open_job_ids(worker, at)
    open_jobs = []
    if open_ids:
        since = dict(
            RawRegistration.objects.filter(
                worker=worker, job_id__in=open_ids, kind__in=JOB_START_KINDS, occurred_at__lte=at
            )
            .exclude(status=RegistrationStatus.CANCELED)
            .values("job_id")
            .annotate(last=Max("occurred_at"))
            .values_list("job_id", "last")
        )
        jobs = Job.objects.filter(pk__in=open_ids).select_related(
            "order__item", "order__unit", "resource"
        )
        last = last_operations({job.order_id for job in jobs})
        open_jobs = [
            OpenJob(
                job=job,
                since=since.get(job.pk),
                finishes_order=job.kind == JobKind.PROCESS
                and last.get(job.order_id) == job.operation_number,
            )
            for job in sorted(jobs, key=lambda j: since.get(j.pk) or at)
        ]
    return WorkerState(
        clocked_in=worker_clocked_in(worker, at),
        on_break=worker_on_break(worker, at),
        indirect_activity=worker_indirect_activity(worker, at),
        open_jobs=open_jobs,
    )


def resource_offered_jobs(*, resource: Resource):
    """The jobs a terminal at the resource offers, in the resource's plan sequence: of
    released or running orders, not on hold, not completed."""
    return (
        Job.objects.filter(
            resource=resource, order__status__in=OFFERED_ORDER_STATUSES, on_hold=False
        )
        .exclude(status=JobStatus.COMPLETED)
        .select_related("order__item", "order__unit")
        .order_by("sequence", "id")
    )


def worker_recent_registrations(*, worker: Worker, limit: int = 6):
    """The worker's last registrations, newest first, with their processing status."""
    return (
        RawRegistration.objects.filter(worker=worker)
        .select_related("job__order", "order", "absence_code", "indirect_activity")
        .order_by("-received_at", "-id")[:limit]
    )
