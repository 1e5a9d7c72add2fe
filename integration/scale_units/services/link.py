"""Hub and scale units, the link (docs/scale_units.md): the scale unit's calls to the hub.

The scale unit always calls the hub (packages are pulled): a plant's firewall lets it out,
and the hub needs no route to it. HTTP, not a broker both must reach: the hub already serves
this API with its tokens, and a scale unit that cannot reach it simply keeps its queue. One
sync round takes the packages, applies them (edge.py) and posts the queued registrations in
acceptance order, in batches, to the hub's registration endpoint, idempotent by registration
UUID; with the hub unreachable the next round waits longer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integration.choices import ForwardStatus, PackageStatus
from integration.http import http_call
from integration.models import HubForward, HubLink, ReceivedPackage
from integration.scale_units.services.edge import ApplySummary, packages_apply
from mesproject.errors import NotAllowed
from mesproject.lanes import move

logger = logging.getLogger(__name__)

SYNC_LOCK = "integration:hub-sync-running"


class HubUnreachable(Exception):
    """The hub did not answer, or answered with a server error: try again later."""


def _call(method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    try:
        status, answer = http_call(
            f"{settings.MES_HUB_URL}{path}",
            method=method,
            body=body,
            headers={
                "Authorization": f"Token {settings.MES_HUB_TOKEN}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if body is not None else {}),
                **(headers or {}),
            },
            timeout=settings.MES_HUB_TIMEOUT_SECONDS,
        )
        if 200 <= status < 300:
            return status, json.loads(answer or b"null")
    except (OSError, ValueError) as exc:
        raise HubUnreachable(f"{type(exc).__name__}: {exc}") from exc
    text = answer.decode(errors="replace")[:500]
    if status >= 500 or status in (401, 403, 408, 429):
        raise HubUnreachable(f"HTTP {status} from the hub: {text}")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {"message": text}


def hub_link() -> HubLink:
    link, _ = HubLink.objects.get_or_create(name="hub")
    return link


def backlog() -> dict:
    """What waits, each way, as the scale unit's pages show it."""
    link = hub_link()
    pending = HubForward.objects.filter(status=ForwardStatus.PENDING)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return {
        "to_hub": pending.count(),
        "to_hub_oldest": oldest,
        "rejected": HubForward.objects.filter(status=ForwardStatus.REJECTED).count(),
        "packages_waiting": ReceivedPackage.objects.filter(status=PackageStatus.NEW).count(),
        "packages_failed": ReceivedPackage.objects.filter(status=PackageStatus.FAILED).count(),
        "link": link,
    }


def hub_pull() -> int:
    """Take the packages the hub has for this scale unit; stored before acknowledged."""
    link = hub_link()
    taken = 0
    while True:
        waiting = backlog()
        query = urllib.parse.urlencode(
            {
                "after": link.last_package_id,
                "backlog": waiting["to_hub"],
                "failed_packages": waiting["packages_failed"],
                "rejected": waiting["rejected"],
            }
        )
        _status, answer = _call("GET", f"/api/v1/scale-units/packages/?{query}")
        if not isinstance(answer, dict) or "packages" not in answer:
            raise HubUnreachable(f"Unexpected answer from the hub: {str(answer)[:200]}")
        packages = answer["packages"]
        with transaction.atomic():
            for item in packages:
                ReceivedPackage.objects.get_or_create(
                    hub_id=item["id"],
                    defaults={
                        "kind": item["kind"],
                        "order_number": item.get("order_number", ""),
                        "reason": item.get("reason", ""),
                        "payload": item["payload"],
                        "created_on_hub_at": item["created_at"],
                    },
                )
            if packages:
                link.last_package_id = max(p["id"] for p in packages)
                HubLink.objects.filter(pk=link.pk).update(last_package_id=link.last_package_id)
        taken += len(packages)
        if not answer.get("more"):
            return taken


@dataclass
class ForwardSummary:
    sent: int = 0
    rejected: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def _batch_key(forwards: list[HubForward]) -> str:
    digest = hashlib.sha256(
        ",".join(str(f.registration_uuid) for f in forwards).encode()
    ).hexdigest()[:32]
    return f"su-{settings.MES_SCALE_UNIT_ID}-{digest}"


def hub_forward(*, batch: int | None = None, max_batches: int | None = None) -> ForwardSummary:
    """Post the queue to the hub in acceptance order, a batch at a time; stops at the first
    batch the hub does not answer (it is sent again, and the hub answers it as a replay)."""
    batch = batch or settings.MES_HUB_FORWARD_BATCH
    summary = ForwardSummary()
    while max_batches is None or summary.batches < max_batches:
        forwards = list(
            HubForward.objects.filter(status=ForwardStatus.PENDING).order_by("id")[:batch]
        )
        if not forwards:
            break
        HubForward.objects.filter(pk__in=[f.pk for f in forwards]).update(
            attempts=F("attempts") + 1
        )
        status, answer = _call(
            "POST",
            "/api/v1/registrations/",
            json.dumps([f.payload for f in forwards]).encode(),
            {
                "Idempotency-Key": _batch_key(forwards),
                "X-Registration-Source": f"scale-unit:{settings.MES_SCALE_UNIT_ID}",
            },
        )
        results = answer.get("results") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(results, list) or len(results) != len(forwards):
            raise HubUnreachable(f"The hub refused the batch: HTTP {status} {str(answer)[:300]}")
        now = timezone.now()
        with transaction.atomic():
            for forward, result in zip(forwards, results, strict=True):
                code = int(result.get("status", 0))
                if code in (200, 202):
                    forward.accepted(code, now)
                    summary.sent += 1
                else:
                    error = f"[{result.get('code', '')}] {result.get('message', '')}"
                    forward.rejected(code, now, error)
                    summary.rejected += 1
                forward.save(update_fields=["status", "hub_status", "sent_at", "error"])
        summary.batches += 1
    return summary


@transaction.atomic
def forward_retry(*, forward: HubForward) -> HubForward:
    """A registration the hub refused goes back in the queue (after its cause was fixed on
    the hub); it keeps its place in the acceptance order only relative to later retries."""
    forward = HubForward.objects.select_for_update().get(pk=forward.pk)
    move(
        forward,
        "send_again",
        lambda: NotAllowed(
            "Only a registration the hub refused can be sent again.", code="not_rejected"
        ),
    )
    forward.save(update_fields=["status"])
    return forward


@dataclass
class SyncSummary:
    pulled: int = 0
    applied: ApplySummary = field(default_factory=ApplySummary)
    forwarded: ForwardSummary = field(default_factory=ForwardSummary)
    error: str = ""
    skipped: bool = False

    def __str__(self) -> str:
        if self.skipped:
            return "skipped: another round is running, or it waits to try the hub again"
        text = (
            f"{self.pulled} package(s) taken, {self.applied.processed} applied, "
            f"{self.applied.failed} failed; {self.forwarded.sent} registration(s) sent, "
            f"{self.forwarded.rejected} refused by the hub"
        )
        return f"{text}; hub unreachable: {self.error}" if self.error else text


def _backoff(failures: int) -> timedelta:
    return timedelta(
        seconds=min(15 * 2 ** max(failures - 1, 0), settings.MES_HUB_MAX_BACKOFF_SECONDS)
    )


def hub_sync(*, force: bool = False) -> SyncSummary:
    """One round with the hub: take and apply its packages, send the registrations queued.
    With the hub unreachable the floor goes on; the next round waits a little longer."""
    summary = SyncSummary()
    link = hub_link()
    now = timezone.now()
    if not force and link.next_attempt_at and link.next_attempt_at > now:
        summary.skipped = True
        return summary
    # One round at a time (beat, the page's button, the command): a second one would send
    # the same batch again, harmless (the hub replays it) but wasted.
    if not cache.add(SYNC_LOCK, 1, timeout=settings.MES_HUB_TIMEOUT_SECONDS * 10):
        summary.skipped = True
        return summary
    try:
        return _sync_round(summary, link, now)
    finally:
        cache.delete(SYNC_LOCK)


def _sync_round(summary: SyncSummary, link: HubLink, now) -> SyncSummary:
    try:
        summary.pulled = hub_pull()
        summary.applied = packages_apply()
        summary.forwarded = hub_forward()
    except HubUnreachable as exc:
        summary.error = str(exc)
        failures = link.consecutive_failures + 1
        HubLink.objects.filter(pk=link.pk).update(
            last_attempt_at=now,
            last_error=summary.error[:2000],
            consecutive_failures=failures,
            next_attempt_at=now + _backoff(failures),
        )
        logger.warning("hub sync: %s", summary.error)
        # Packages already taken are still applied: the floor gets them without the hub.
        if not summary.applied.processed and not summary.applied.failed:
            summary.applied = packages_apply()
        return summary
    HubLink.objects.filter(pk=link.pk).update(
        last_attempt_at=now,
        last_success_at=timezone.now(),
        last_error="",
        consecutive_failures=0,
        next_attempt_at=None,
    )
    return summary
