"""Hub and scale units, the scale unit's side (docs/scale_units.md).

The manufacturing hub to scale unit message processor applies the packages taken from the
hub through the lane queue (mesproject.lanes): in hub order, each in its own transaction; a
failed one holds the later ones of its order (its lane; a package of no order is in none).
Every registration accepted on the scale unit is queued for the hub, in the same transaction,
as the hub's API takes it (forward_record); link.py sends the queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core import serializers
from django.core.serializers.base import DeserializationError
from django.db import connection, transaction
from django.utils import timezone

from execution.models import Job, LogbookEntry, RawRegistration
from integration.choices import PackageStatus
from integration.models import HubForward, ReceivedPackage
from integration.scale_units.services.common import RUNNING
from mesproject.actors import Actor
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.lanes import LaneQueue, attempt, failure_text, move
from orders.choices import OrderStatus
from orders.models import ProductionOrder

# Order fields the hub decides; the quantities reported and the running status are the
# floor's (the scale unit's registrations reach the hub later).
ORDER_HUB_FIELDS = (
    "item_id",
    "revision",
    "quantity",
    "unit_id",
    "over_delivery_tolerance_pct",
    "scheduled_start",
    "priority",
    "site_id",
    "restricted",
    "bom_id",
    "route_id",
    # The ERP's force close, on the hub: the scale unit refuses new starts too.
    "closing_since",
)
HUB_STATUSES = (OrderStatus.CREATED, OrderStatus.CANCELED, OrderStatus.CLOSED)
SYNC_ACTOR = Actor(process="hub-sync")

QUEUE = LaneQueue(
    ReceivedPackage,
    lane="order_number",
    sequence=("hub_id",),
    waiting=(PackageStatus.NEW,),
    holding=(PackageStatus.FAILED,),
    no_lane="",
)


# --- Scale unit: applying the hub's packages ---------------------------------------------------


class PackageRefused(ApplicationError):
    code = "package_refused"


def _apply_order(obj: ProductionOrder, hub_status: str, reason: str) -> None:
    current = ProductionOrder.objects.filter(pk=obj.pk).first()
    if current is None:
        obj.save()  # raw: the hub's row as it is, status included
        return
    ProductionOrder.objects.filter(pk=obj.pk).update(
        **{name: getattr(obj, name) for name in ORDER_HUB_FIELDS}
    )
    status = current.status
    if hub_status in HUB_STATUSES:
        status = hub_status
    elif current.status not in RUNNING:
        # Released again, reopened or unterminated on the hub: where the floor's quantities say.
        status = current.implied_running_status() if current.has_activity() else hub_status
    if status == OrderStatus.CREATED and current.status != OrderStatus.CREATED:
        _unrelease_here(current)
    if status != current.status:
        ProductionOrder.objects.filter(pk=obj.pk).update(status=status)
        LogbookEntry.objects.create(
            at=timezone.now(),
            order_id=obj.pk,
            text=f"Order {obj.number}: {current.status} -> {status} on the hub ({reason})",
        )


def _unrelease_here(order: ProductionOrder) -> None:
    if RawRegistration.objects.filter(order=order).exists():
        raise PackageRefused(
            f"Order {order.number} was unreleased on the hub, but registrations were made on "
            "it here that the hub may not have yet. Cancel this package to keep the jobs, or "
            "cancel those registrations first.",
        )
    Job.objects.filter(order=order).delete()


def _apply_job(obj: Job) -> None:
    if not Job.objects.filter(pk=obj.pk).exists():
        obj.save()
        return
    # Progress and the plan's order are the floor's; what is planned is the hub's.
    Job.objects.filter(pk=obj.pk).update(
        planned_quantity=obj.planned_quantity,
        planned_minutes=obj.planned_minutes,
        operation_name=obj.operation_name,
    )


def _apply(package: ReceivedPackage) -> None:
    payload = package.payload
    hub_status = (payload.get("order") or {}).get("status", "")
    try:
        objects = list(serializers.deserialize("json", json.dumps(payload["objects"])))
    except (DeserializationError, KeyError, TypeError) as exc:
        raise PackageRefused(f"The package cannot be read: {exc}") from exc
    order = None  # a package carries one order at most
    for item in objects:
        if isinstance(item.object, ProductionOrder):
            order = item.object
        elif not isinstance(item.object, Job):  # jobs after their order
            item.save()
    keeps_jobs = True
    if order is not None:
        _apply_order(order, hub_status, package.reason)
        keeps_jobs = (
            ProductionOrder.objects.filter(pk=order.pk).values_list("status", flat=True).get()
            != OrderStatus.CREATED
        )
    if keeps_jobs:
        for item in objects:
            if isinstance(item.object, Job):
                _apply_job(item.object)
    # Foreign keys are checked at commit; check them now, so that a package pointing at rows
    # this scale unit does not have fails alone instead of the whole round.
    connection.check_constraints(
        table_names=sorted({type(item.object)._meta.db_table for item in objects})
    )


@dataclass
class ApplySummary:
    processed: int = 0
    failed: int = 0


def package_apply_one(*, package: ReceivedPackage, actor: Actor = SYNC_ACTOR) -> str:
    """Apply one package in its own transaction, if it is the head of its order's lane; a
    failure is kept with its error. Returns the package's status."""
    with transaction.atomic():
        claimed = QUEUE.claim(package.pk, lane=package.order_number)
        if claimed is None:
            return ReceivedPackage.objects.values_list("status", flat=True).get(pk=package.pk)
        package = claimed
        package.attempts += 1
        _, failure = attempt(lambda: _apply(package))
        if failure is not None:
            package.fail(failure_text(failure)[0], actor)
        else:
            package.processed(timezone.now(), actor)
        package.save(
            update_fields=[
                "status",
                "error",
                "attempts",
                "processed_at",
                "handled_by",
                "handled_by_actor",
            ]
        )
        return package.status


def packages_apply(*, actor: Actor = SYNC_ACTOR) -> ApplySummary:
    """The manufacturing hub to scale unit message processor: the packages taken, in hub
    order; a failed one holds the later ones of its order until it is processed or canceled."""
    summary = ApplySummary()
    held: set[str] = set()
    for pk, order_number in QUEUE.pending():
        if order_number and order_number in held:
            continue
        outcome = package_apply_one(
            package=ReceivedPackage(pk=pk, order_number=order_number), actor=actor
        )
        if outcome == PackageStatus.PROCESSED:
            summary.processed += 1
        elif outcome == PackageStatus.FAILED:
            summary.failed += 1
            if order_number:
                held.add(order_number)
    return summary


@transaction.atomic
def package_process_again(*, package: ReceivedPackage, actor: Actor) -> ReceivedPackage:
    """Process: apply a failed package now (and what it held, if it goes)."""
    package = QUEUE.lock(package)
    move(
        package,
        "process_again",
        lambda: NotAllowed(
            f"Package #{package.hub_id} is {package.get_status_display().lower()}.",
            code="package_not_failed",
        ),
    )
    package.save(update_fields=["status"])
    package_apply_one(package=package, actor=actor)
    package.refresh_from_db()
    if package.status == PackageStatus.PROCESSED:
        packages_apply(actor=actor)
    return package


@transaction.atomic
def package_cancel(*, package: ReceivedPackage, actor: Actor) -> ReceivedPackage:
    """Cancel: the package is given up; the later ones of its order go on."""
    package = QUEUE.lock(package)
    move(
        package,
        "cancel",
        lambda: NotAllowed(
            f"Package #{package.hub_id} is {package.get_status_display().lower()}: only a new "
            "or failed one can be canceled.",
            code="package_not_cancelable",
        ),
        actor,
    )
    package.save(update_fields=["status", "handled_by", "handled_by_actor"])
    return package


# --- Scale unit: registrations on their way to the hub -----------------------------------------


def _code(obj, name: str = "code"):
    return getattr(obj, name) if obj is not None else ""


def registration_payload(data) -> dict:
    """A registration as the hub's POST /api/v1/registrations/ takes it, after the checks
    here resolved it (the start quantity, the put-away location, the indirect activity)."""
    body = {
        "registration_uuid": str(data.uuid),
        "kind": data.kind,
        "occurred_at": data.occurred_at.isoformat(),
        "badge_id": _code(data.worker, "badge_id"),
        "terminal": _code(data.terminal),
        "resource": _code(data.resource),
        "order": _code(data.order, "number"),
        "quantity_good": str(data.quantity_good),
        "quantity_scrap": str(data.quantity_scrap),
        "reason_code": _code(data.reason_code),
        "stops_job": data.stops_job,
        "completes_job": data.completes_job,
        "absence_code": _code(data.absence_code),
        "absence_minutes": str(data.absence_minutes),
        "indirect_activity": _code(data.indirect_activity),
        "lot_number": data.lot_number,
        "consume": data.consume,
        "note": data.note,
    }
    if data.job is not None:
        body["job"] = data.job.pk
    if data.jobs:
        body["jobs"] = [job.pk for job in data.jobs]
    if data.quantity is not None:
        body["quantity"] = str(data.quantity)
    if data.location is not None:
        body["location"] = f"{data.location.warehouse.code}/{data.location.code}"
    if data.material is not None:
        body["material_line"] = data.material.line_number
    return body


def forward_record(*, data, rows) -> None:
    """settings.MES_SCALE_UNIT_FORWARDER: on a scale unit, the door queues each registration
    it accepts for the hub here, in the transaction that stores it."""
    HubForward.objects.create(
        registration_uuid=data.uuid,
        kind=data.kind,
        order_number=_code(data.order, "number"),
        occurred_at=data.occurred_at,
        payload=registration_payload(data),
    )
