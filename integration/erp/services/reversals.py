"""What the ERP is told when a supervisor's correction is processed: reversal messages, in
order on the work order's stream, each naming the message it reverses.

An ERP reverses a posting with a posting of the opposite sign that references the original
(D365: a negative report as finished / a reversed journal; SAP: movement type 102 / 262
referencing the original document). So a reversal carries the original's fields with the
quantity negated, plus `reverses_transaction_uuid` (the original message's
transaction_uuid; null when it was written before messages named their registration) and
the supervisor's `reason`. Consumption given back travels as the material issue it nets
against (a negative `qty_consumed`), sent before the reversals. docs/integration.md has the
bodies.
"""

from decimal import Decimal

from execution.choices import RegistrationKind
from execution.models import RawRegistration
from integration.choices import MessageKind, MessageStatus
from integration.erp.services.outbox import (
    _enqueue_scrap,
    completion_payload,
    material_issues_flush,
    outbox_enqueue,
)
from integration.models import OutboxMessage
from orders.models import ProductionOrder


def _originals(registration: RawRegistration) -> dict[str, OutboxMessage]:
    """The messages the corrected registration wrote, by kind."""
    return {
        message.kind: message
        for message in OutboxMessage.objects.filter(
            registration_uuid=registration.uuid,
            kind__in=(MessageKind.PRODUCTION_COMPLETION, MessageKind.SCRAP),
        ).order_by("sequence")
    }


def _reference(original: OutboxMessage | None, correction: RawRegistration) -> dict:
    return {
        "reverses_transaction_uuid": str(original.transaction_uuid) if original else None,
        "reason": correction.note,
    }


def _scrap_reversal(
    order: ProductionOrder,
    correction: RawRegistration,
    original: OutboxMessage | None,
    reason_code,
    quantity: Decimal,
    operation,
) -> None:
    extra = _reference(original, correction)
    if original is not None and original.payload.get("reason_code"):
        # The ERP booked the scrap under this reason code: reverse it under the same one.
        extra.update(
            reason_code=original.payload["reason_code"],
            cost_center=original.payload.get("cost_center", ""),
        )
    _enqueue_scrap(
        order,
        reason_code,
        quantity,
        operation,
        kind=MessageKind.SCRAP_REVERSAL,
        registration_uuid=correction.uuid,
        extra=extra,
    )


def _sent(original: OutboxMessage | None) -> bool:
    """A canceled message never reached the ERP: there is nothing to reverse there."""
    return original is None or original.status != MessageStatus.CANCELED


def correction_outbox_effect(*, processed) -> None:
    """A processed correction's reversal messages, from the journal lines it wrote."""
    correction = processed.registration
    if correction.kind != RegistrationKind.CORRECTION:
        return
    original = RawRegistration.objects.select_related("reason_code").get(pk=correction.corrects_id)
    order = ProductionOrder.objects.select_related("item", "unit").get(pk=correction.order_id)
    # The consumption given back goes to the ERP first, like consumption before a completion.
    material_issues_flush(order=order)
    originals = _originals(original)
    if original.kind == RegistrationKind.REPORT_AS_FINISHED:
        if not processed.finished:
            return
        line = processed.finished[0]
        completion = originals.get(MessageKind.PRODUCTION_COMPLETION)
        if line.quantity_good < 0 and _sent(completion):
            outbox_enqueue(
                stream=order.number,
                kind=MessageKind.COMPLETION_REVERSAL,
                order=order,
                payload={
                    **completion_payload(order, line),
                    **_reference(completion, correction),
                },
                registration_uuid=correction.uuid,
            )
        scrap = originals.get(MessageKind.SCRAP)
        if line.quantity_scrap < 0 and _sent(scrap):
            _scrap_reversal(
                order, correction, scrap, original.reason_code, line.quantity_scrap, None
            )
        return
    scrap = originals.get(MessageKind.SCRAP)
    for card in (card for card in processed.route_card if card.quantity_scrap < 0):
        if _sent(scrap):
            _scrap_reversal(
                order,
                correction,
                scrap,
                card.reason_code,
                card.quantity_scrap,
                card.operation_number,
            )
