"""The outbox relay: sends due messages to the ERP, signed, in order per stream.

Streams are lanes of the lane queue (mesproject.lanes): a message is sent while its stream's
advisory lock and its row lock (`FOR UPDATE SKIP LOCKED`) are held, so two relays never send
it at the same time; the retries, backoff and dead-letter queue are the relay's own. A crash
after the ERP answered and before the commit sends it again later, which the ERP's duplicate
check on transaction_uuid absorbs. Streams run in
parallel (threads on PostgreSQL), each one strictly in sequence.
"""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from integration.choices import OPEN_MESSAGE_STATUSES, MessageKind
from integration.erp import signing
from integration.erp.services.outbox import (
    QUEUE,
    UnmappedDefect,
    dead_letter,
    deliverable_heads,
    map_defect,
    retry_delay,
)
from integration.http import http_call
from integration.models import OutboxMessage

# Statuses that mean "try again later" rather than "the ERP refuses this message".
TRANSIENT = {408, 425, 429}


@dataclass
class DeliverySummary:
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0


def message_body(message: OutboxMessage) -> bytes:
    body = {
        "transaction_uuid": str(message.transaction_uuid),
        "message_type": message.kind,
        "stream": message.stream,
        "sequence": message.sequence,
        # Each send is a distinct request (its own signature, even when a crash rolled the
        # attempt count back), so a quick resend is never mistaken for a captured request
        # replayed; transaction_uuid stays the ERP's duplicate key.
        "attempt_id": uuid.uuid4().hex,
        **message.payload,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _post(body: bytes) -> tuple[int, str]:
    """POST the body to the ERP; (status, text). Raises OSError on timeouts and refusals."""
    timestamp = int(time.time())
    status, text = http_call(
        settings.MES_ERP_ENDPOINT_URL,
        method="POST",
        body=body,
        headers={
            "Content-Type": "application/json",
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.signature_header(
                body, settings.MES_ERP_SIGNING_SECRETS, timestamp
            ),
        },
        timeout=settings.MES_ERP_TIMEOUT_SECONDS,
        limit=2000,
    )
    return status, text.decode(errors="replace")


def _failed(message: OutboxMessage, error: str, *, now, status_code=None) -> str:
    """A transient failure: retried on the backoff schedule; into the DLQ once it keeps
    failing (MES_OUTBOX_DLQ_AFTER_ATTEMPTS)."""
    if message.attempts >= settings.MES_OUTBOX_DLQ_AFTER_ATTEMPTS:
        dead_letter(message, error, now=now, status_code=status_code)
        return "dead_letter"
    message.last_error = error
    message.last_status_code = status_code
    message.next_attempt_at = now + retry_delay(message.attempts)
    message.save()
    return "failed"


def outbox_deliver_one(*, pk: int) -> str | None:
    """Send one message if it is due and the head of its stream; returns the outcome, or
    None when it was not this relay's to send now."""
    with transaction.atomic():
        now = timezone.now()
        # The head of its stream (mesproject.lanes), due now; a dead letter is retried too.
        message = QUEUE.claim(pk, statuses=OPEN_MESSAGE_STATUSES, next_attempt_at__lte=now)
        if message is None:
            return None
        message.attempts += 1
        if message.kind in (MessageKind.SCRAP, MessageKind.SCRAP_REVERSAL):
            try:
                message.payload = map_defect(message.payload)
            except UnmappedDefect as exc:
                dead_letter(message, str(exc), now=now)
                return "dead_letter"
        if not settings.MES_ERP_ENDPOINT_URL:
            return _failed(
                message, "No ERP endpoint is configured (MES_ERP_ENDPOINT_URL).", now=now
            )
        try:
            status, text = _post(message_body(message))
        except OSError as exc:  # timeout, refused connection, DNS...
            return _failed(message, f"{type(exc).__name__}: {exc}", now=now)
        if 200 <= status < 300:
            message.delivered(timezone.now(), status)
            message.save()
            return "delivered"
        error = f"ERP answered {status}: {text[:500]}"
        if 400 <= status < 500 and status not in TRANSIENT:
            dead_letter(message, error, now=now, status_code=status)
            return "dead_letter"
        return _failed(message, error, now=now, status_code=status)


def _deliver_in_thread(pks: list[int]) -> list[str | None]:
    """One thread's share of a batch, on one database connection: opening one per message
    cost more than the delivery itself (bench/outbox_delivery.py). Closed at the end, as
    Django never reuses a pool thread's connection."""
    try:
        return [outbox_deliver_one(pk=pk) for pk in pks]
    finally:
        connection.close()


def outbox_deliver(*, max_seconds: float = 50.0) -> DeliverySummary:
    """Send what is due, stream after stream, until nothing more can go or time is up."""
    summary = DeliverySummary()
    threads = settings.MES_OUTBOX_THREADS if connection.vendor == "postgresql" else 1
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        heads = deliverable_heads(now=timezone.now(), limit=settings.MES_OUTBOX_BATCH)
        if not heads:
            break
        if threads > 1 and len(heads) > 1:
            # Each head is another stream, so the shares never touch the same stream.
            shares = [heads[i::threads] for i in range(min(threads, len(heads)))]
            with ThreadPoolExecutor(max_workers=len(shares)) as pool:
                outcomes = [o for share in pool.map(_deliver_in_thread, shares) for o in share]
        else:
            outcomes = [outbox_deliver_one(pk=pk) for pk in heads]
        for outcome in outcomes:
            if outcome == "delivered":
                summary.delivered += 1
            elif outcome == "failed":
                summary.failed += 1
            elif outcome == "dead_letter":
                summary.dead_lettered += 1
        if "delivered" not in outcomes:
            break  # everything left is waiting for its next attempt or held
    return summary
