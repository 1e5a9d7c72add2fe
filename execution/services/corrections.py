"""Corrections: a supervisor reverses a processed registration, never edits history.

A correction is a registration of its own (kind `correction`, `corrects` naming the one it
reverses, `source` who asked, `note` why), stored in the lane of the corrected registration
and processed there by the processor like any other. Processing it writes the opposite of
what the corrected registration wrote (correction_reversals.py), referencing the correction.
It is refused (nothing stored) when later work depends on what would be reversed
(correction_checks.py); the check runs here at the door and again when processed.

Lock order: the order, then the corrected registration (the processor takes the order
before its jobs; it never locks a registration it has already processed).
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from mesproject.actors import Actor
from mesproject.deployment import refuse_off_hub
from mesproject.errors import ApplicationError
from orders.services import lock_order

from ..choices import ProcessingOutcome, RegistrationStatus
from ..models import ProcessingLogEntry, RawRegistration
from .correction_checks import K, _refuse, _what, correction_refusal_check
from .nudge import processor_nudge

REASON_MAX = 200


@transaction.atomic
def registration_correct(
    *, registration: RawRegistration, actor: Actor, reason: str
) -> RawRegistration:
    """Store a correction of a processed registration (the processor reverses it), after
    checking it can be reversed; audited with who and why."""
    refuse_off_hub("A correction")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "A correction needs a reason.", code="reason_required", fields={"reason": "required"}
        )
    if len(reason) > REASON_MAX:
        raise ApplicationError(
            f"The reason is longer than {REASON_MAX} characters.",
            code="reason_too_long",
            fields={"reason": f"at most {REASON_MAX} characters"},
        )
    if registration.order_id is None:
        raise _refuse(
            "Only a registration about an order can be corrected.",
            "kind_not_correctable",
            kind=registration.kind,
        )
    order = lock_order(registration.order_id)
    registration = (
        RawRegistration.objects.select_for_update(of=("self",))
        .select_related("job")
        .get(pk=registration.pk)
    )
    earlier = (
        registration.corrections.exclude(status=RegistrationStatus.CANCELED).order_by("pk").first()
    )
    if earlier is not None:
        raise _refuse(
            f"Registration {registration.uuid} is already corrected by {earlier.uuid} "
            f"({earlier.get_status_display().lower()}).",
            "already_corrected",
            correction=earlier.uuid,
        )
    correction_refusal_check(registration=registration, order=order)
    try:
        with transaction.atomic():
            correction = RawRegistration.objects.create(
                uuid=uuid.uuid4(),
                kind=K.CORRECTION,
                lane=registration.lane,
                # Never before what it corrects, so the lane processes it after.
                occurred_at=max(timezone.now(), registration.occurred_at),
                order=order,
                job=registration.job,
                resource=registration.resource,
                corrects=registration,
                note=reason,
                source=actor.label[:64],
            )
    except IntegrityError as exc:  # rawreg_corrected_once: the lock makes this a backstop
        raise _refuse(
            f"Registration {registration.uuid} is already corrected.", "already_corrected"
        ) from exc
    ProcessingLogEntry.objects.bulk_create(
        [
            ProcessingLogEntry(
                registration=registration,
                outcome=ProcessingOutcome.CORRECTED,
                message=f"correction {correction.uuid} asked: {reason}",
                user=actor.user,
                actor=actor.label,
            ),
            ProcessingLogEntry(
                registration=correction,
                outcome=ProcessingOutcome.CORRECTED,
                message=f"reverses {_what(registration)}: {reason}",
                user=actor.user,
                actor=actor.label,
            ),
        ]
    )
    transaction.on_commit(processor_nudge)
    return correction
