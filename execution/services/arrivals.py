"""Available at location: material put at a resource's input location is consumed at once by
the order whose job runs (or is next) on that resource, up to what its line still needs; what
already lies there when an order is released is offered the same way, as a release step."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from inventory.choices import FlushingPrinciple, SourceType, TransactionKind
from inventory.models import InventoryTransaction, Location, OnHand
from inventory.services import Source
from mesproject.actors import SYSTEM, Actor
from orders import services as order_services
from orders.models import ProductionOrder

from .. import flushing
from ..choices import JobKind, JobStatus
from .jobs import jobs_waiting_at, lock_orders
from .materials import order_reference
from .order_work import OrderWork

# Stock that arrives: received, moved there, or reported as finished by the order before
# (semi-finished goods landing at the next resource's input). A return from an order is not
# "put there for production".
ARRIVAL_KINDS = (
    TransactionKind.RECEIPT,
    TransactionKind.TRANSFER_IN,
    TransactionKind.FINISHED_RECEIPT,
)
ARRIVAL_ACTOR = Actor(process="available-at-location")


def material_arrived_at_input(sender, *, entries: list[InventoryTransaction], **_) -> None:
    """Receiver of inventory.signals.stock_posted (connected in apps.py), inside the posting's
    transaction: each row that adds stock of an arrival kind is offered at its location."""
    for movement in entries:
        if movement.quantity <= 0 or movement.kind not in ARRIVAL_KINDS:
            continue
        _offer(
            location=movement.location,
            item_id=movement.item_id,
            quantity=movement.quantity,
            source=Source(movement.source_type, movement.source_id),
            occurred_at=movement.occurred_at,
            lot_number=movement.lot.number if movement.lot_id else "",
            actor=ARRIVAL_ACTOR,
        )


@transaction.atomic
def order_consume_staged_material(*, order: ProductionOrder, actor: Actor = SYSTEM) -> None:
    """Release step, after the jobs exist: what already lies at the input location of an
    available-at-location line's resource is offered as if it arrived now, so the orders
    ahead in that resource's plan take first and the released order takes what it needs."""
    if not settings.MES_POST_INVENTORY:
        return  # a scale unit: the hub consumes
    jobs = list(order.jobs.filter(kind=JobKind.PROCESS).select_related("resource"))
    first = min((job.operation_number for job in jobs), default=None)
    inputs = {
        job.operation_number: job.resource.input_location_id
        for job in jobs
        if job.resource.input_location_id
    }
    pairs = {
        (inputs[operation], material.component_id)
        for material in order.materials.select_related("component")
        if material.effective_flushing_principle == FlushingPrinciple.AVAILABLE_AT_LOCATION
        # A line without an operation number belongs to the route's first operation.
        and (operation := material.operation_number or first) in inputs
    }
    staged = (
        OnHand.objects.filter(quantity__gt=0)
        .filter(
            Q(*[Q(location_id=loc, item_id=item) for loc, item in sorted(pairs)], _connector=Q.OR)
        )
        .values("location_id", "item_id")
        .annotate(total=Sum("quantity"))
        .order_by("location_id", "item_id")
        if pairs
        else []
    )
    staged = list(staged)
    # The orders ahead at these inputs, by id, before the first posting locks on-hand.
    lock_orders(
        order_id
        for row in staged
        for order_id in jobs_waiting_at(
            location_id=row["location_id"], item_id=row["item_id"]
        ).values_list("order_id", flat=True)
    )
    source = Source(SourceType.PRODUCTION_ORDER, order_reference(order))
    for row in staged:
        _offer(
            location=Location.objects.get(pk=row["location_id"]),
            item_id=row["item_id"],
            quantity=row["total"],
            source=source,
            occurred_at=timezone.now(),
            lot_number="",  # lots first-in first-out at the location
            actor=actor,
            released=order.pk,
        )


def _offer(
    *,
    location: Location,
    item_id: int,
    quantity: Decimal,
    source: Source,
    occurred_at,
    lot_number: str,
    actor: Actor,
    released: int | None = None,
) -> Decimal:
    """Offer stock at an input location to the open jobs there, the running one first, then in
    the resource's plan; each takes up to what its line still needs. Returns the rest.
    `released`: the order being released, whose lines record the consumption as on release."""
    jobs = list(
        jobs_waiting_at(location_id=location.pk, item_id=item_id)
        .annotate(
            running=Case(
                When(status=JobStatus.STARTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("running", "sequence", "pk")
        .distinct()
    )
    # Every order before the first posting, by id: the product's lock order. (The use cases
    # that post an arrival took them before on-hand already; see lock_orders_waiting_at.)
    lock_orders(job.order_id for job in jobs)
    remaining = quantity
    for job in jobs:
        if remaining <= 0:
            break
        order = order_services.lock_order(job.order_id)
        work = OrderWork(
            order=order,
            actor=actor,
            source=source,
            occurred_at=occurred_at,
            lot_number=lot_number,
            take_from=location,
        )
        reported = order.quantity_completed + order.quantity_scrapped
        event = flushing.StagedAtRelease if order.pk == released else flushing.PutAtInputLocation
        remaining = work.flush_put(
            event(
                component=item_id,
                operation_number=job.operation_number,
                quantity=remaining,
                reported_output=work.to_parent(reported),
            )
        )
    return remaining
