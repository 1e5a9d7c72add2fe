"""The raw-registration processor: the lane queue. Stored registrations are claimed, processed
one by one (applying.py says what each kind becomes), failed, processed again or canceled.

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

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from mesproject.actors import Actor
from mesproject.errors import ApplicationError

from ..choices import ProcessingOutcome, RegistrationStatus
from ..models import ProcessingLogEntry, RawRegistration
from ..signals import registration_processed
from .applying import _apply
from .nudge import processor_nudge, processor_nudge_clear
from .registration_checks import _conflict

logger = logging.getLogger(__name__)

PROCESSOR = Actor(process="registration-processor")


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
