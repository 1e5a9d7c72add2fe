"""Idempotency for every API write: the first answer to a caller's key is the answer.

A key is claimed (committed at once, state in flight) before the request runs, so a
concurrent duplicate sees the claim and gets 409 instead of running the effect twice. The
answer is stored in the effect's own transaction, so a stored answer always matches what
was written; a 5xx (or a crash) stores nothing and releases the claim, so the caller may
retry. See docs/integration.md.
"""

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integration.choices import KeyState
from integration.models import IdempotencyKey

MAX_KEY_LENGTH = 255


def request_fingerprint(*, method: str, path: str, body: bytes, content_type: str) -> str:
    """SHA-256 of what the request asks; JSON is canonicalised so key order does not count."""
    canonical = body
    if "json" in (content_type or ""):
        with contextlib.suppress(ValueError):
            canonical = json.dumps(
                json.loads(body or b"null"), sort_keys=True, separators=(",", ":")
            ).encode()
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


@dataclass(frozen=True)
class Claim:
    """What claiming a key found: ours to run, a stored answer, or a reason to refuse."""

    outcome: str  # "run", "replay", "in_flight", "mismatch"
    record: IdempotencyKey


def _expired(record: IdempotencyKey, now) -> bool:
    return record.expires_at <= now


def _abandoned(record: IdempotencyKey, now) -> bool:
    limit = timedelta(seconds=settings.MES_IDEMPOTENCY_IN_FLIGHT_SECONDS)
    return record.state == KeyState.IN_FLIGHT and record.created_at <= now - limit


def idempotency_claim(*, user, key: str, fingerprint: str, method: str, path: str) -> Claim:
    """Claim the key for this request, committed at once (call outside any transaction)."""
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    fingerprint=fingerprint,
                    method=method,
                    path=path[:500],
                    created_at=now,
                    expires_at=now + timedelta(days=settings.MES_IDEMPOTENCY_KEY_DAYS),
                )
            return Claim("run", record)
        except IntegrityError:
            pass
        record = IdempotencyKey.objects.filter(user=user, key=key).first()
        if record is None:
            continue  # released between our insert and our read: try again
        if _expired(record, now):
            IdempotencyKey.objects.filter(pk=record.pk, expires_at=record.expires_at).delete()
            continue
        if record.fingerprint != fingerprint:
            return Claim("mismatch", record)
        if record.state == KeyState.COMPLETED:
            return Claim("replay", record)
        if _abandoned(record, now):
            # Take over a claim whose request died; the conditional update lets only one
            # of several retries win it.
            taken = IdempotencyKey.objects.filter(
                pk=record.pk, state=KeyState.IN_FLIGHT, created_at=record.created_at
            ).update(created_at=now)
            if taken:
                record.created_at = now
                return Claim("run", record)
        return Claim("in_flight", record)
    return Claim("in_flight", record)


def idempotency_complete(
    *, record: IdempotencyKey, status: int, body: bytes, content_type: str, location: str
) -> None:
    """Store the answer; call inside the transaction that wrote the effect."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=KeyState.COMPLETED,
        response_status=status,
        response_body=body,
        response_content_type=content_type[:100],
        response_location=location[:500],
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyKey) -> None:
    """Forget a claim whose request ended without an answer worth keeping (5xx, 401/403)."""
    IdempotencyKey.objects.filter(pk=record.pk, state=KeyState.IN_FLIGHT).delete()


def idempotency_keys_purge(*, now=None) -> int:
    """Delete expired keys (beat, daily); returns how many went."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
