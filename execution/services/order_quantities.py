"""An order's reported quantities and the automatic transitions they cause (start,
complete, resume), announced with execution.signals.order_changed like the manual ones.

The processor, corrections, a quantity change and the ERP's force close come here; the
orders service does the arithmetic, its checks and the status settling.
"""

from decimal import Decimal

from django.db import transaction

from inventory.fields import ZERO
from mesproject.actors import SYSTEM, Actor
from orders import services as order_services
from orders.choices import OrderStatus, Transition
from orders.models import ProductionOrder

from ..signals import order_changed

# The automatic transitions a status change stands for.
_AUTOMATIC = {
    (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS): (Transition.START,),
    (OrderStatus.RELEASED, OrderStatus.COMPLETED): (Transition.START, Transition.COMPLETE),
    (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED): (Transition.COMPLETE,),
    (OrderStatus.COMPLETED, OrderStatus.IN_PROGRESS): (Transition.RESUME,),
}


@transaction.atomic
def order_record_quantities(
    *,
    order: ProductionOrder,
    actor: Actor = SYSTEM,
    reason: str = "",
    in_progress: Decimal = ZERO,
    good: Decimal = ZERO,
    scrap: Decimal = ZERO,
    work_started: bool = False,
) -> ProductionOrder:
    """Reported quantities (deltas) and the automatic transitions they cause."""
    order = order_services.lock_order(order.pk)
    before = order.status
    order = order_services.production_order_record_quantities(
        order=order,
        actor=actor,
        reason=reason,
        in_progress=in_progress,
        good=good,
        scrap=scrap,
        work_started=work_started,
    )
    announce_automatic_transitions(order=order, before=before, actor=actor)
    return order


def announce_automatic_transitions(*, order: ProductionOrder, before: str, actor: Actor) -> None:
    """order_changed for each automatic transition that took the order from `before`."""
    for transition in _AUTOMATIC.get((before, order.status), ()):
        order_changed.send(sender=ProductionOrder, order=order, transition=transition, actor=actor)
