"""The raw-registration processor: registrations go through the lane queue
(mesproject.lanes: claimed at the head of their lane, failed, processed again, canceled);
applying.py says what each kind becomes.

Lanes: an order, or a worker's attendance (RawRegistration.lane), in event-time order. Each
registration is processed in its own transaction, which also marks it processed, so a worker
killed mid-batch leaves every registration either fully applied or still new. A failed one
holds the later ones of its lane until a supervisor processes it again or cancels it; other
lanes go on. A unique constraint on the source registration of every journal line stops a
double even if two processors met.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from mesproject.actors import Actor
from mesproject.lanes import LaneQueue, attempt, failure_text, move

from ..choices import ProcessingOutcome, RegistrationStatus
from ..models import ProcessingLogEntry, RawRegistration
from ..signals import registration_processed
from .applying import _apply
from .nudge import processor_nudge, processor_nudge_clear
from .registration_checks import _conflict

logger = logging.getLogger(__name__)

PROCESSOR = Actor(process="registration-processor")

QUEUE = LaneQueue(
    RawRegistration,
    lane="lane",
    sequence=("occurred_at", "pk"),
    waiting=(RegistrationStatus.NEW,),
    holding=(RegistrationStatus.FAILED,),
)


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


def _candidates(limit: int) -> list[tuple[int, str]]:
    """The oldest pending registrations of lanes no failure holds, in event-time order across
    lanes too: one order's semi-finished goods reported as finished before another order
    consumes them are processed in that order."""
    return QUEUE.pending(limit)


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
        registration = QUEUE.claim(pk, lane=lane)
        if registration is None:
            return None
        registration.attempts += 1

        def work() -> str:
            done = _apply(registration, actor)
            registration_processed.send(sender=RawRegistration, processed=done)
            return done.text

        text, failure = attempt(work, unexpected=f"registration {registration.uuid}")
        if failure is not None:
            return _fail(registration, actor, failure)
        registration.processed(timezone.now())
        registration.save(
            update_fields=["status", "processed_at", "error", "error_code", "attempts"]
        )
        _log(registration, ProcessingOutcome.PROCESSED, text, actor)
        return ProcessingOutcome.PROCESSED


def _log(registration: RawRegistration, outcome: str, message: str, actor: Actor) -> None:
    entry = ProcessingLogEntry(registration=registration, outcome=outcome, message=message)
    actor.stamp(entry)
    entry.save()


def _fail(registration: RawRegistration, actor: Actor, exc: Exception) -> str:
    message, code = failure_text(exc)
    registration.fail(message, code)
    registration.save(update_fields=["status", "error", "error_code", "attempts"])
    _log(registration, ProcessingOutcome.FAILED, f"[{code}] {message}", actor)
    return ProcessingOutcome.FAILED


# --- Supervisor actions on the processing log --------------------------------------------------


@transaction.atomic
def registration_process_again(*, registration: RawRegistration, actor: Actor) -> RawRegistration:
    """A failed registration goes back to the queue (after its cause was fixed)."""
    registration = QUEUE.lock(registration)
    move(
        registration,
        "process_again",
        lambda: _conflict(
            f"Registration {registration.uuid} is {registration.get_status_display().lower()}: "
            "only a failed one can be processed again.",
            "registration_not_failed",
            status=registration.status,
        ),
    )
    registration.save(update_fields=["status"])
    _log(registration, ProcessingOutcome.REQUEUED, "queued to process again", actor)
    transaction.on_commit(processor_nudge)
    return registration


@transaction.atomic
def registration_cancel(
    *, registration: RawRegistration, actor: Actor, reason: str = ""
) -> RawRegistration:
    """A new or failed registration is given up: it will never be processed, and the ones
    it held in its lane go on."""
    registration = QUEUE.lock(registration)
    move(
        registration,
        "cancel",
        lambda: _conflict(
            f"Registration {registration.uuid} is {registration.get_status_display().lower()}: "
            "only a new or failed one can be canceled.",
            "registration_not_cancelable",
            status=registration.status,
        ),
    )
    registration.save(update_fields=["status"])
    _log(registration, ProcessingOutcome.CANCELED, reason or "canceled", actor)
    transaction.on_commit(processor_nudge)
    return registration
