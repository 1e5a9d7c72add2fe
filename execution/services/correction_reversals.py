"""What a correction reverses when the processor processes it (see corrections.py).

Processing a correction writes the opposite of what the corrected registration wrote,
referencing the correction:

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
"""

from __future__ import annotations

from django.conf import settings

from inventory import services as inventory_services
from inventory.choices import SourceType
from inventory.fields import ZERO, show
from inventory.services import MovementInput, Source
from mesproject.locks import lock_row

from ..choices import JobStatus, LogbookKind
from ..models import (
    Job,
    MaterialLineState,
    PickingListLine,
    RawRegistration,
    ReportAsFinishedLine,
    RouteCardLine,
)
from .applying import _save_job
from .correction_checks import K, _what, correction_refusal_check
from .genealogy import genealogy_reverse
from .order_work import OrderWork, _log


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
    card = RouteCardLine.objects.create(
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
    work.done.route_card.append(card)
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
    reversed_line = ReportAsFinishedLine.objects.create(
        registration=correction,
        order=order,
        item_id=line.item_id,
        quantity_good=-line.quantity_good,
        quantity_scrap=-line.quantity_scrap,
        lot_id=line.lot_id,
        location_id=line.location_id,
        inventory_transaction=reversal,
    )
    work.done.finished.append(reversed_line)
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
    work.done.picking_list.extend(reversed_lines)
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
