"""Upstream messages to the ERP: written in the transaction of the change they report,
numbered per stream (a work order, or payroll), and delivered by the relay in that order.

See docs/integration.md for the message contract, the micro-batching of material issue and
the dead-letter queue.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_fsm import can_proceed

from execution.choices import RegistrationKind
from integration.choices import OPEN_MESSAGE_STATUSES, MessageKind, MessageStatus, NotificationKind
from integration.erp.services.work_orders import unfinished_quantity
from integration.models import (
    DefectReasonMapping,
    MaterialIssueBatch,
    OutboxFix,
    OutboxMessage,
    OutboxStream,
)
from integration.services.notifications import notify
from inventory.choices import TransactionKind
from inventory.fields import show
from mesproject.actors import Actor
from mesproject.errors import NotAllowed
from mesproject.lanes import LaneQueue, move
from mesproject.nudge import nudge, nudge_clear
from mesproject.roles import IT, SUPERVISOR
from orders.models import ProductionOrder

PAYROLL_STREAM = "payroll"

# Each stream is a lane, in sequence order; a dead letter holds its stream (and is still
# retried on the backoff schedule: the relay claims open messages, not only pending ones).
QUEUE = LaneQueue(
    OutboxMessage,
    lane="stream",
    sequence=("sequence",),
    waiting=(MessageStatus.PENDING,),
    holding=(MessageStatus.DEAD_LETTER,),
)


def _lock_stream(key: str) -> OutboxStream:
    """The stream's row, locked: numbering and micro-batches of one order never interleave."""
    OutboxStream.objects.get_or_create(key=key)
    return OutboxStream.objects.select_for_update().get(key=key)


RELAY_TASK = "integration.tasks.deliver_outbox"
NUDGE_KEY = "integration:relay-nudged"
RELAY = "the outbox relay"


def _nudge_relay() -> None:
    """Wake the relay after a commit (mesproject.nudge); beat sweeps anyway."""
    nudge(task=RELAY_TASK, key=NUDGE_KEY, what=RELAY)


def relay_nudge_clear() -> None:
    nudge_clear(key=NUDGE_KEY, what=RELAY)


@transaction.atomic
def outbox_enqueue(
    *,
    stream: str,
    kind: str,
    payload: dict,
    order: ProductionOrder | None = None,
    error: str = "",
    registration_uuid=None,
) -> OutboxMessage:
    """Append a message to its stream; with an error it starts in the dead-letter queue.
    registration_uuid: the registration it reports (a correction's reversal finds it by it)."""
    locked = _lock_stream(stream)
    locked.last_sequence += 1
    locked.save(update_fields=["last_sequence"])
    now = timezone.now()
    message = OutboxMessage.objects.create(
        stream=stream,
        sequence=locked.last_sequence,
        kind=kind,
        transaction_uuid=uuid.uuid4(),
        order=order,
        payload=payload,
        registration_uuid=registration_uuid,
        created_at=now,
        next_attempt_at=now,
    )
    if error:
        dead_letter(message, error, now=now)
    else:
        transaction.on_commit(_nudge_relay)
    return message


# --- Material issue: micro-batched ---------------------------------------------------------


def _flush_batch(batch: MaterialIssueBatch, order: ProductionOrder) -> OutboxMessage | None:
    message = None
    if batch.quantity != 0:
        message = outbox_enqueue(
            stream=order.number,
            kind=MessageKind.MATERIAL_ISSUE,
            order=order,
            payload={
                "wo_id": order.number,
                "component_part": batch.item.part_number,
                "lot_number": batch.lot_number,
                "qty_consumed": show(batch.quantity),
                "uom": batch.unit.code,
                "postings": batch.postings,
            },
        )
    batch.delete()
    return message


def material_issue_record(*, entries) -> None:
    """Every posting (receivers.stock_posted): the orders' consumption (issues minus returns)
    into their batches.

    A batch is sent at once when it reaches the unit threshold; the beat sends the ones
    older than the time window (material_issues_flush).
    """
    moves = [
        e
        for e in entries
        if e.order_ref and e.kind in (TransactionKind.ISSUE, TransactionKind.RETURN)
    ]
    if not moves:
        return
    orders = {
        o.number: o for o in ProductionOrder.objects.filter(number__in={e.order_ref for e in moves})
    }
    threshold = Decimal(settings.MES_MATERIAL_ISSUE_BATCH_UNITS)
    now = timezone.now()
    for entry in moves:
        order = orders.get(entry.order_ref)
        if order is None:
            continue  # stock booked against a reference that is not one of our orders
        _lock_stream(order.number)
        lot_number = entry.lot.number if entry.lot_id else ""
        consumed = -entry.quantity  # the ledger signs an issue negative (stock leaves)
        batch = (
            MaterialIssueBatch.objects.select_related("item", "unit")
            .filter(order=order, item_id=entry.item_id, lot_number=lot_number)
            .first()
        )
        if batch is None:
            batch = MaterialIssueBatch.objects.create(
                order=order,
                item_id=entry.item_id,
                lot_number=lot_number,
                unit_id=entry.unit_id,
                quantity=consumed,
                postings=1,
                opened_at=now,
            )
        else:
            batch.quantity += consumed
            batch.postings += 1
            batch.save(update_fields=["quantity", "postings"])
        if abs(batch.quantity) >= threshold:
            _flush_batch(batch, order)


def material_issues_flush(*, order: ProductionOrder | None = None, due_only: bool = False) -> int:
    """Send open batches: one order's (before its completion and close), or the ones the time
    window has run out for. Returns the number of messages written."""
    batches = MaterialIssueBatch.objects.all()
    if order is not None:
        batches = batches.filter(order=order)
    if due_only:
        window = timezone.timedelta(minutes=settings.MES_MATERIAL_ISSUE_BATCH_MINUTES)
        batches = batches.filter(opened_at__lte=timezone.now() - window)
    written = 0
    for order_id in sorted(set(batches.values_list("order_id", flat=True))):
        with transaction.atomic():
            owner = ProductionOrder.objects.get(pk=order_id)
            _lock_stream(owner.number)
            for batch in batches.filter(order_id=order_id).select_related("item", "unit"):
                written += _flush_batch(batch, owner) is not None
    return written


# --- Production completion, scrap, genealogy, pay basis ---------------------------------


def _scrap_payload(order: ProductionOrder, reason_code, quantity: Decimal, operation) -> dict:
    return {
        "wo_id": order.number,
        "component_part": order.item.part_number,
        "defect_code": reason_code.code if reason_code else "",
        "reason_code": "",
        "cost_center": "",
        "qty_scrapped": show(quantity),
        "uom": order.unit.code,
        "operation_number": operation,
    }


def _location_id(location) -> str:
    return f"{location.warehouse.code}/{location.code}" if location else ""


class UnmappedDefect(Exception):
    """A scrap message whose MES defect code has no ERP reason code: not sent, not guessed."""


def map_defect(payload: dict) -> dict:
    if payload.get("reason_code"):
        return payload
    code = payload.get("defect_code") or ""
    mapping = (
        DefectReasonMapping.objects.filter(defect__code=code, is_active=True).first()
        if code
        else None
    )
    if mapping is None:
        raise UnmappedDefect(
            f"Defect code {code or '(none)'} has no ERP reason code: add it to the defect "
            "mapping, then retry the message."
        )
    return {**payload, "reason_code": mapping.erp_reason_code, "cost_center": mapping.cost_center}


def _enqueue_scrap(
    order: ProductionOrder,
    reason_code,
    quantity: Decimal,
    operation,
    *,
    kind: str = MessageKind.SCRAP,
    registration_uuid=None,
    extra: dict | None = None,
) -> None:
    payload = {**_scrap_payload(order, reason_code, quantity, operation), **(extra or {})}
    error = ""
    try:
        payload = map_defect(payload)
    except UnmappedDefect as exc:
        error = str(exc)
    outbox_enqueue(
        stream=order.number,
        kind=kind,
        order=order,
        payload=payload,
        error=error,
        registration_uuid=registration_uuid,
    )


def completion_payload(order: ProductionOrder, line) -> dict:
    """A production completion's body (a reversal's too, with negative quantities), from
    the report-as-finished line."""
    return {
        "wo_id": order.number,
        "parent_part": order.item.part_number,
        "serial_number": line.lot.number if line.lot_id else "",
        "qty_good": show(line.quantity_good),
        "uom": order.unit.code,
        "location_id": _location_id(line.location),
    }


def registration_outbox_effect(*, processed) -> None:
    """What a processed registration reports to the ERP, from the journal lines it wrote."""
    registration = processed.registration
    if registration.kind == RegistrationKind.REPORT_AS_FINISHED:
        if not processed.finished:
            return
        line = processed.finished[0]
        order = line.order
        if line.quantity_good > 0:
            outbox_enqueue(
                stream=order.number,
                kind=MessageKind.PRODUCTION_COMPLETION,
                order=order,
                payload=completion_payload(order, line),
                registration_uuid=registration.uuid,
            )
        if line.quantity_scrap > 0:
            _enqueue_scrap(
                order,
                registration.reason_code,
                line.quantity_scrap,
                None,
                registration_uuid=registration.uuid,
            )
    elif registration.quantity_scrap > 0:
        for line in (card for card in processed.route_card if card.quantity_scrap > 0):
            _enqueue_scrap(
                line.order,
                line.reason_code,
                line.quantity_scrap,
                line.operation_number,
                registration_uuid=registration.uuid,
            )


def order_genealogy_record(*, order: ProductionOrder) -> None:
    """On close: a link to the as-built record kept here, never the whole tree."""
    path = reverse("integration:work-order-as-built", args=[order.number])
    outbox_enqueue(
        stream=order.number,
        kind=MessageKind.GENEALOGY,
        order=order,
        payload={
            "wo_id": order.number,
            "parent_part": order.item.part_number,
            "qty_good": show(order.quantity_completed),
            # Started but neither completed nor scrapped: only a force close leaves any.
            "qty_unfinished": show(unfinished_quantity(order)),
            "as_built_url": settings.MES_PUBLIC_URL.rstrip("/") + path,
        },
    )


def pay_basis_send(*, days, csv_text: str) -> None:
    """settings.MES_PAY_BASIS_SENDER: a transfer's pay basis CSV goes to payroll through the
    ERP, in the transaction that marked the days transferred."""
    dates = sorted({day.date for day in days})
    outbox_enqueue(
        stream=PAYROLL_STREAM,
        kind=MessageKind.PAY_BASIS,
        payload={
            "date_from": dates[0].isoformat() if dates else "",
            "date_to": dates[-1].isoformat() if dates else "",
            "days": len(days),
            "pay_basis_csv": csv_text,
        },
    )


# --- Dead-letter queue ---------------------------------------------------------------------


def retry_delay(attempts: int) -> timezone.timedelta:
    schedule = settings.MES_OUTBOX_RETRY_SECONDS
    return timezone.timedelta(seconds=schedule[min(max(attempts, 1), len(schedule)) - 1])


def dead_letter(message: OutboxMessage, error: str, *, now, status_code=None) -> None:
    """Into the DLQ (alert once), retried on the backoff schedule; later messages wait."""
    first_time = message.status != MessageStatus.DEAD_LETTER
    message.fail(
        error, now=now, status_code=status_code, retry_at=now + retry_delay(message.attempts)
    )
    message.save()
    if first_time:
        notify(
            kind=NotificationKind.DEAD_LETTER,
            roles=[IT, SUPERVISOR],
            title=f"ERP message {message} is in the dead-letter queue",
            text=f"{error} Later messages of {message.stream} are held until it is delivered.",
            link=_message_link(message),
            dedup_key=f"outbox:{message.pk}",
            level=40,  # ERROR
        )


def _message_link(message: OutboxMessage) -> str:
    """The message's IT page (retry, fix, cancel from the browser); the admin when the URLconf
    has no IT pages."""
    try:
        return reverse("it:outbox_message", args=[message.pk])
    except NoReverseMatch:
        return reverse("admin:integration_outboxmessage_change", args=[message.pk])


def _refused(message: OutboxMessage) -> NotAllowed:
    return NotAllowed(
        f"Message {message} is {message.get_status_display()}: only a message in the "
        "dead-letter queue can be retried, fixed or canceled.",
        code="message_notdead_letter",
        fields={"status": message.status},
    )


def _requiredead_letter(message: OutboxMessage) -> OutboxMessage:
    message = QUEUE.lock(message)
    if not can_proceed(message.process_again):
        raise _refused(message)
    return message


@transaction.atomic
def outbox_retry(*, message: OutboxMessage) -> OutboxMessage:
    """Send again now; once delivered, the messages it held follow in their order."""
    message = QUEUE.lock(message)
    move(message, "process_again", lambda: _refused(message), timezone.now())
    message.save(update_fields=["status", "next_attempt_at"])
    transaction.on_commit(_nudge_relay)
    return message


@transaction.atomic
def outbox_fix(*, message: OutboxMessage, payload: dict, actor: Actor) -> OutboxMessage:
    """Correct a dead-lettered message's body (IT), then retry it. The body it had is kept
    in an OutboxFix row with who changed it; an unchanged body is only retried."""
    message = _requiredead_letter(message)
    if not isinstance(payload, dict):
        raise NotAllowed("The payload must be a JSON object.", code="payload_invalid")
    if payload != message.payload:
        OutboxFix.objects.create(
            message=message,
            fixed_by=actor.user,
            fixed_by_actor=actor.label,
            payload_before=message.payload,
            payload_after=payload,
        )
        message.payload = payload
        message.save(update_fields=["payload"])
    return outbox_retry(message=message)


@transaction.atomic
def outbox_cancel(*, message: OutboxMessage, actor: Actor) -> OutboxMessage:
    """Give up on a dead-lettered message (kept, marked canceled); the held ones go on."""
    message = QUEUE.lock(message)
    move(message, "cancel", lambda: _refused(message), actor)
    message.save(update_fields=["status", "next_attempt_at", "canceled_by", "canceled_by_actor"])
    transaction.on_commit(_nudge_relay)
    return message


def earlier_open(*, stream, sequence):
    """Messages of the stream before this sequence, not yet finished: they hold it."""
    return QUEUE.earlier(OutboxMessage(stream=stream, sequence=sequence))


def deliverable_heads(*, now, limit: int) -> list[int]:
    """Ids of messages due now that are the oldest unfinished one of their stream."""
    return QUEUE.heads(
        limit,
        order_by=("next_attempt_at", "id"),
        statuses=OPEN_MESSAGE_STATUSES,
        next_attempt_at__lte=now,
    )
