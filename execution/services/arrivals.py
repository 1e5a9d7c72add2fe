"""Available at location: material put at a resource's input location is consumed at once by
the order whose job runs (or is next) on that resource, up to what its line still needs."""

from django.db.models import Case, IntegerField, Value, When

from inventory.choices import TransactionKind
from inventory.models import InventoryTransaction
from inventory.services import Source
from orders import services as order_services
from orders.choices import OrderStatus
from orders.services import Actor

from .. import flushing
from ..choices import JobKind, JobStatus
from ..models import Job
from .processing import OrderWork

# Stock that arrives: received, moved there, or reported as finished by the order before
# (semi-finished goods landing at the next resource's input). A return from an order is not
# "put there for production".
ARRIVAL_KINDS = (
    TransactionKind.RECEIPT,
    TransactionKind.TRANSFER_IN,
    TransactionKind.FINISHED_RECEIPT,
)
ARRIVAL_ACTOR = Actor(process="available-at-location")


def material_arrived_at_input(*, movement: InventoryTransaction, **_) -> None:
    """inventory's arrival hook (registered in apps.py), inside the posting's transaction."""
    if movement.kind not in ARRIVAL_KINDS:
        return
    jobs = (
        Job.objects.filter(
            resource__input_location_id=movement.location_id,
            kind=JobKind.PROCESS,
            on_hold=False,
            order__status__in=(OrderStatus.RELEASED, OrderStatus.IN_PROGRESS),
            order__materials__component_id=movement.item_id,
        )
        .exclude(status=JobStatus.COMPLETED)
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
    remaining = movement.quantity
    for job in jobs:
        if remaining <= 0:
            return
        order = order_services.lock_order(job.order_id)
        work = OrderWork(
            order=order,
            actor=ARRIVAL_ACTOR,
            source=Source(movement.source_type, movement.source_id),
            occurred_at=movement.occurred_at,
            lot_number=movement.lot.number if movement.lot_id else "",
            take_from=movement.location,
        )
        reported = order.quantity_completed + order.quantity_scrapped
        result = work.flush_put(
            flushing.PutAtInputLocation(
                component=movement.item_id,
                operation_number=job.operation_number,
                quantity=remaining,
                reported_output=work.to_parent(reported),
            )
        )
        remaining = result
