"""Corrections: a supervisor reverses a processed registration, never edits history.

A correction is a registration of its own (kind `correction`, `corrects` naming the one it
reverses, `source` who asked, `note` why), stored in the lane of the corrected registration
and processed there by the processor like any other. Processing it writes the opposite of
what the corrected registration wrote, referencing the correction:

- progress / scrap: the job's good and scrap (a job the report completed, or now left short
  of what it started, reopens); a route card line with the negative quantities (the worker's
  time stays: it was worked); the order's scrapped quantity.
- report as finished: the finished-goods receipt (taken back at its lot and location); a
  negative report as finished line; the order's completed and scrapped quantities (Completed
  goes back to In Progress through the automatic transition).
- manual consumption: the consumption (returned) or the return (issued again).

Every picking list line of the corrected registration is reversed at its lot and location,
and the flushing state it moved is moved back, so the output is consumed again when it is
reported again. integration writes the ERP's reversal messages from the processed correction.

Refused (nothing stored) when later work depends on what would be reversed: good output of
operation N that operation N+1 has started (or, at the last operation, that was reported as
finished); finished goods no longer on hand at their lot and location; a
return whose material is gone again. The check runs at the door and again when processed.

Lock order: the order, then the corrected registration (the processor takes the order
before its jobs; it never locks a registration it has already processed).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from inventory import services as inventory_services
from inventory.choices import SourceType
from inventory.exceptions import InsufficientStock
from inventory.fields import ZERO, show
from inventory.services import MovementInput, Source
from mesproject.actors import SYSTEM, Actor
from mesproject.deployment import refuse_off_hub
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.locks import lock_row
from orders.choices import OrderStatus
from orders.models import ProductionOrder
from orders.services import lock_order

from ..choices import (
    JOB_START_KINDS,
    JobKind,
    JobStatus,
    LogbookKind,
    ProcessingOutcome,
    RegistrationKind,
    RegistrationStatus,
)
from ..models import (
    Job,
    MaterialLineState,
    PickingListLine,
    ProcessingLogEntry,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from .applying import _save_job
from .genealogy import genealogy_reverse
from .materials import order_reference
from .nudge import processor_nudge
from .order_work import OrderWork, _log

K = RegistrationKind
CORRECTABLE_KINDS = (
    K.REPORT_PROGRESS,
    K.REPORT_SCRAP,
    K.REPORT_AS_FINISHED,
    K.CONSUME_MATERIAL,
)
PENDING = (RegistrationStatus.NEW, RegistrationStatus.FAILED)
REASON_MAX = 200


def _refuse(message: str, code: str, **fields) -> NotAllowed:
    shown = {k: show(v) if isinstance(v, Decimal) else str(v) for k, v in fields.items()}
    return NotAllowed(message, code=code, fields=shown)


def _what(registration: RawRegistration) -> str:
    return f"{registration.get_kind_display().lower()} {registration.uuid}"


# --- What may be reversed ----------------------------------------------------------------------


def _pending_sum(queryset, expression) -> Decimal:
    return queryset.aggregate(total=Sum(expression))["total"] or ZERO


def _pending_corrections(exclude_pk: int | None):
    """Corrections accepted and not processed yet: what they take back is already spoken for."""
    return RawRegistration.objects.filter(kind=K.CORRECTION, status__in=PENDING).exclude(
        pk=exclude_pk
    )


def _check_job_output(registration: RawRegistration, exclude_pk: int | None) -> None:
    """Good output of operation N is reversible only while operation N+1 has not started it
    (the last operation: while it was not reported as finished)."""
    good = registration.quantity_good
    job = registration.job
    if not good or job.kind != JobKind.PROCESS:
        return
    corrections = _pending_corrections(exclude_pk)
    output = job.quantity_good - _pending_sum(
        corrections.filter(corrects__job=job), "corrects__quantity_good"
    )
    following = (
        Job.objects.filter(
            order_id=job.order_id, kind=JobKind.PROCESS, operation_number__gt=job.operation_number
        )
        .order_by("operation_number")
        .first()
    )
    if following is not None:
        used = following.quantity_started + _pending_sum(
            RawRegistration.objects.filter(
                job=following, kind__in=JOB_START_KINDS, status__in=PENDING
            ),
            "quantity",
        )
        later = f"operation {following.operation_number} has started"
    else:
        finished = ReportAsFinishedLine.objects.filter(order_id=job.order_id)
        pending = RawRegistration.objects.filter(
            order_id=job.order_id, kind=K.REPORT_AS_FINISHED, status__in=PENDING
        )
        undone = corrections.filter(order_id=job.order_id, corrects__kind=K.REPORT_AS_FINISHED)
        used = (
            _pending_sum(finished, F("quantity_good") + F("quantity_scrap"))
            + _pending_sum(pending, F("quantity_good") + F("quantity_scrap"))
            - _pending_sum(undone, F("corrects__quantity_good") + F("corrects__quantity_scrap"))
        )
        later = "was reported as finished"
    reversible = max(ZERO, output - used)
    if good > reversible:
        raise _refuse(
            f"Cannot reverse {show(good)} good of operation {job.operation_number}: "
            f"{show(used)} of its output {later}, so only {show(reversible)} can be "
            "reversed. Correct the later work first.",
            "used_by_later_work",
            operation=job.operation_number,
            reversible=reversible,
            requested=good,
        )


def _check_finished_goods(registration: RawRegistration, order: ProductionOrder) -> None:
    """Finished goods are taken back only while they are still where they were received."""
    good = registration.quantity_good
    if not good:
        return
    line = (
        ReportAsFinishedLine.objects.select_related(
            "inventory_transaction__item__unit",
            "inventory_transaction__lot",
            "inventory_transaction__location",
        )
        .filter(registration=registration)
        .first()
    )
    receipt = line.inventory_transaction if line is not None else None
    if receipt is None or not settings.MES_POST_INVENTORY:
        return
    short = _would_refuse(
        lambda: inventory_services.inventory_reverse_finished(
            receipt=receipt,
            quantity=receipt.quantity,
            source=Source(SourceType.REGISTRATION, str(registration.uuid)),
            actor=SYSTEM,
        )
    )
    if short is not None:
        raise _refuse(
            f"Cannot take back {show(receipt.quantity)} {receipt.item.part_number} from "
            f"{receipt.location}: it is no longer all there (moved, delivered or consumed "
            f"since). {short.message}",
            "finished_goods_used",
            **short.fields,
        )


class _DryRun(Exception):
    """Rolls a trial posting back."""


def _would_refuse(post) -> InsufficientStock | None:
    """Run a posting in a savepoint and roll it back: inventory's own stock rule (negative
    stock allowed or not) decides, not a copy of it."""
    try:
        with transaction.atomic():
            post()
            raise _DryRun
    except _DryRun:
        return None
    except InsufficientStock as exc:
        return exc


def _check_returned_material(registration: RawRegistration, order: ProductionOrder) -> None:
    """Reversing a return issues the material again: it must still be there."""
    if not settings.MES_POST_INVENTORY:
        return
    returns = list(
        PickingListLine.objects.filter(registration=registration, quantity__lt=0).select_related(
            "component__unit", "lot", "location"
        )
    )
    if not returns:
        return
    short = _would_refuse(
        lambda: inventory_services.inventory_issue_many(
            lines=[
                MovementInput(
                    item=line.component,
                    quantity=-line.quantity,
                    location=line.location,
                    lot=line.lot,
                )
                for line in returns
            ],
            order_ref=order_reference(order),
            source=Source(SourceType.REGISTRATION, str(registration.uuid)),
            actor=SYSTEM,
        )
    )
    if short is not None:
        raise _refuse(
            f"Cannot reverse the return: the material returned is no longer all there. "
            f"{short.message}",
            "insufficient_stock",
            **short.fields,
        )


def correction_refusal_check(
    *, registration: RawRegistration, order: ProductionOrder, exclude_pk: int | None = None
) -> None:
    """Raise (with a code) when the registration cannot be reversed now; exclude_pk: the
    correction being processed, not counted as pending."""
    if registration.kind not in CORRECTABLE_KINDS:
        raise _refuse(
            f"A {registration.get_kind_display().lower()} registration cannot be corrected: "
            "only progress, scrap, report as finished and manual consumption can.",
            "kind_not_correctable",
            kind=registration.kind,
        )
    if registration.status != RegistrationStatus.PROCESSED:
        raise _refuse(
            f"Registration {registration.uuid} is {registration.get_status_display().lower()}:"
            " only a processed one can be corrected (cancel a new or failed one instead).",
            "registration_not_processed",
            status=registration.status,
        )
    if order.status == OrderStatus.CLOSED:
        raise _refuse(
            f"Order {order.number} is closed: reopen it before correcting its registrations.",
            "order_closed",
            status=order.status,
        )
    if order.status not in (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        raise _refuse(
            f"Order {order.number} is {order.get_status_display()}: its registrations can no "
            "longer be corrected.",
            "order_not_running",
            status=order.status,
        )
    if registration.kind in (K.REPORT_PROGRESS, K.REPORT_SCRAP):
        _check_job_output(registration, exclude_pk)
    elif registration.kind == K.REPORT_AS_FINISHED:
        _check_finished_goods(registration, order)
    else:
        _check_returned_material(registration, order)


# --- Asking for a correction -------------------------------------------------------------------


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
                actor=actor.label,
            ),
            ProcessingLogEntry(
                registration=correction,
                outcome=ProcessingOutcome.CORRECTED,
                message=f"reverses {_what(registration)}: {reason}",
                actor=actor.label,
            ),
        ]
    )
    transaction.on_commit(processor_nudge)
    return correction


# --- Processing a correction (called by the processor) --------------------------------------


def correction_apply(work: OrderWork) -> str:
    """Reverse what the corrected registration did; the order is locked by the processor."""
    correction = work.registration
    original = (
        RawRegistration.objects.select_related("job", "reason_code")
        .filter(pk=correction.corrects_id)
        .get()
    )
    correction_refusal_check(registration=original, order=work.order, exclude_pk=correction.pk)
    if original.kind in (K.REPORT_PROGRESS, K.REPORT_SCRAP):
        text = _reverse_job_feedback(work, original)
    elif original.kind == K.REPORT_AS_FINISHED:
        text = _reverse_report_as_finished(work, original)
    else:
        lines = _reverse_consumption(work, original)
        text = f"Order {work.order.number}: manual consumption reversed"
        if lines:
            text += f" ({show(-sum((line.quantity for line in lines), ZERO))} {_part(lines)})"
    text += f"; corrects {_what(original)}, by {correction.source}: {correction.note}"
    _log(correction, LogbookKind.CORRECTION, text, order=work.order)
    return text


def _part(lines: list[PickingListLine]) -> str:
    return ", ".join(sorted({line.component.part_number for line in lines}))


def _reverse_job_feedback(work: OrderWork, original: RawRegistration) -> str:
    correction = work.registration
    job = lock_row(Job.objects.select_related("resource"), original.job_id)
    job.order = work.order
    good, scrap = original.quantity_good, original.quantity_scrap
    job.quantity_good -= good
    job.quantity_scrapped -= scrap
    reopened = job.status == JobStatus.COMPLETED and (
        original.completes_job or job.quantity_good + job.quantity_scrapped < job.quantity_started
    )
    if reopened:
        running = job.activities.filter(ended_at__isnull=True).exists()
        job.status = JobStatus.STARTED if running else JobStatus.STOPPED
        job.completed_at = None
    _save_job(job, ["quantity_good", "quantity_scrapped", "status", "completed_at"])
    RouteCardLine.objects.create(
        registration=correction,
        order=work.order,
        job=job,
        operation_number=job.operation_number,
        job_kind=job.kind,
        resource=job.resource,
        worker_id=original.worker_id,
        ended_at=correction.occurred_at,
        quantity_good=-good,
        quantity_scrap=-scrap,
        reason_code_id=original.reason_code_id,
    )
    _reverse_consumption(work, original)
    if scrap:
        work.record(scrap=-scrap)
    text = f"Job {job}: {show(good)} good, {show(scrap)} scrap reversed"
    if reopened:
        text += f", reopened ({job.get_status_display().lower()})"
    return text


def _reverse_report_as_finished(work: OrderWork, original: RawRegistration) -> str:
    correction = work.registration
    order = work.order
    line = ReportAsFinishedLine.objects.select_related(
        "inventory_transaction__item__unit",
        "inventory_transaction__lot",
        "inventory_transaction__location",
    ).get(registration=original)
    reversal = None
    if line.inventory_transaction_id is not None and settings.MES_POST_INVENTORY:
        reversal = inventory_services.inventory_reverse_finished(
            receipt=line.inventory_transaction,
            quantity=line.inventory_transaction.quantity,
            source=Source(SourceType.REGISTRATION, str(correction.uuid)),
            actor=work.actor,
            reason=f"correction of report as finished {original.uuid}",
            occurred_at=correction.occurred_at,
        )
    _reverse_consumption(work, original)
    genealogy_reverse(original=original, correction=correction)
    ReportAsFinishedLine.objects.create(
        registration=correction,
        order=order,
        item_id=line.item_id,
        quantity_good=-line.quantity_good,
        quantity_scrap=-line.quantity_scrap,
        lot_id=line.lot_id,
        location_id=line.location_id,
        inventory_transaction=reversal,
    )
    work.record(good=-line.quantity_good, scrap=-line.quantity_scrap)
    text = f"Order {order.number}: {show(line.quantity_good)} reported as finished reversed"
    if line.quantity_scrap:
        text += f", {show(line.quantity_scrap)} scrap reversed"
    return text


def _reverse_consumption(work: OrderWork, original: RawRegistration) -> list[PickingListLine]:
    """Every picking list line of the original, reversed at its lot and location (a
    consumption returned, a return issued again), and the line states moved back."""
    lines = list(
        PickingListLine.objects.filter(registration=original)
        .select_related("component__unit", "lot", "location")
        .order_by("line_number")
    )
    if not lines:
        return []
    correction = work.registration
    source = Source(SourceType.REGISTRATION, str(correction.uuid))
    reason = f"correction of {original.uuid}"
    transactions = {}
    for line in lines:
        if line.quantity > 0:
            transactions[line.pk] = inventory_services.inventory_return(
                item=line.component,
                quantity=line.quantity,
                location=line.location,
                lot=line.lot,
                order_ref=work.reference,
                source=source,
                actor=work.actor,
                reason=reason,
                occurred_at=correction.occurred_at,
            )
    issues = [line for line in lines if line.quantity < 0]
    if issues:
        posted = inventory_services.inventory_issue_many(
            lines=[
                MovementInput(
                    item=line.component,
                    quantity=-line.quantity,
                    location=line.location,
                    lot=line.lot,
                    reason=reason,
                )
                for line in issues
            ],
            order_ref=work.reference,
            source=source,
            actor=work.actor,
            occurred_at=correction.occurred_at,
        )
        transactions.update({line.pk: txn for line, txn in zip(issues, posted, strict=True)})
    reversed_lines = PickingListLine.objects.bulk_create(
        [
            PickingListLine(
                registration=correction,
                line_number=number,
                order=work.order,
                material_id=line.material_id,
                component=line.component,
                lot=line.lot,
                location=line.location,
                quantity=-line.quantity,
                principle=line.principle,
                event="correction",
                operation_number=line.operation_number,
                covered_from=line.covered_to,
                covered_to=line.covered_from,
                inventory_transaction=transactions[line.pk],
            )
            for number, line in enumerate(lines, start=1)
        ]
    )
    _restore_line_states(lines)
    return reversed_lines


def _restore_line_states(lines: list[PickingListLine]) -> None:
    """Move each line's flushing state back by what the reversed lines had moved it: the
    covered output range and the consumed quantity (manual lines: the manual quantity)."""
    states = {
        state.material_id: state
        for state in MaterialLineState.objects.filter(
            material_id__in={line.material_id for line in lines}
        )
    }
    for line in lines:
        state = states.get(line.material_id)
        if state is None:
            continue
        if line.covered_from is None:
            state.manual_consumed -= line.quantity
        else:
            covered = line.covered_to - line.covered_from
            state.covered_output = max(ZERO, state.covered_output - covered)
            state.consumed = max(ZERO, state.consumed - line.quantity)
    for state in states.values():
        # The order is locked: nobody else writes its lines' states meanwhile.
        state.save(update_fields=["covered_output", "consumed", "manual_consumed"])
