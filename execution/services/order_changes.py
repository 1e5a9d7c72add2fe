"""Changing an order after release: the use case that keeps it in step.

orders changes the order (quantity, planning fields, material lines) but cannot see
inventory reservations' owner rules or the jobs; execution is the highest app the change
touches, so the change lives here and calls each step in sequence, in one transaction:
1. the orders service changes the order (its checks, its history, its status settling);
2. its process jobs' planned quantity and minutes follow the new order quantity;
3. the order's reservations are set to what its material lines now need.
Steps 2 and 3 do nothing while the order is Created (nothing is reserved or planned yet)
or once it is Closed or Canceled (frozen, or nothing held). The planner page, the admin and
the ERP (a change applied at once, or a supervisor's approved change request) call these.
"""

from decimal import Decimal

from django.db import transaction

from inventory.models import Item
from mesproject.actors import SYSTEM, Actor
from orders import services as order_services
from orders.models import ProductionOrder, ProductionOrderMaterial

from ..choices import JobKind
from ..models import Job
from ..signals import CHANGED, order_changed
from .materials import RESERVING, order_reserve_materials
from .order_quantities import announce_automatic_transitions

MINUTES = Decimal("0.01")


def order_resync_jobs(*, order: ProductionOrder, actor: Actor = SYSTEM) -> list[Job]:
    """Process jobs plan the order quantity, in minutes of their operation's run time
    (setup jobs do not depend on the quantity). Returns the jobs that changed."""
    if order.route_id is None:
        return []
    run_times = dict(
        order.route.operations.values_list("operation_number", "run_time_minutes_per_unit")
    )
    changed = []
    jobs = Job.objects.select_for_update(no_key=True).filter(
        order_id=order.pk, kind=JobKind.PROCESS
    )
    for job in jobs.order_by("pk"):
        minutes = (run_times.get(job.operation_number, Decimal(0)) * order.quantity).quantize(
            MINUTES
        )
        if (job.planned_quantity, job.planned_minutes) == (order.quantity, minutes):
            continue
        job.planned_quantity, job.planned_minutes = order.quantity, minutes
        job._change_reason = f"order {order.number} changed by {actor.label}"
        job.save(update_fields=["planned_quantity", "planned_minutes"])
        changed.append(job)
    return changed


def order_resync(*, order: ProductionOrder, actor: Actor = SYSTEM) -> None:
    """Bring reservations and job plans in line with the order as it is now (idempotent)."""
    if order.status not in RESERVING:
        return
    # The product's lock order: the order (locked by the orders service), its jobs, then
    # reservations, as the registration processor takes them (docs/execution.md).
    order_resync_jobs(order=order, actor=actor)
    order_reserve_materials(order=order, actor=actor)


def _in_step(order: ProductionOrder, before: str, actor: Actor) -> None:
    """After the orders service changed the order: re-sync, then tell the apps above
    (a quantity change may have completed or resumed the order)."""
    order_resync(order=order, actor=actor)
    announce_automatic_transitions(order=order, before=before, actor=actor)
    order_changed.send(sender=ProductionOrder, order=order, transition=CHANGED, actor=actor)


@transaction.atomic
def order_change(
    *, order: ProductionOrder, actor: Actor = SYSTEM, reason: str = "", **changes
) -> ProductionOrder:
    """Change planning fields and/or the quantity, then re-sync reservations and jobs."""
    before = order_services.lock_order(order.pk).status
    order = order_services.production_order_update(
        order=order, actor=actor, reason=reason, **changes
    )
    _in_step(order, before, actor)
    return order


@transaction.atomic
def order_change_quantity(
    *, order: ProductionOrder, quantity: Decimal, actor: Actor = SYSTEM, reason: str = ""
) -> ProductionOrder:
    """New order quantity, then re-sync reservations and jobs."""
    before = order_services.lock_order(order.pk).status
    order = order_services.production_order_change_quantity(
        order=order, quantity=quantity, actor=actor, reason=reason
    )
    _in_step(order, before, actor)
    return order


@transaction.atomic
def order_material_add(
    *, order: ProductionOrder, component: Item, actor: Actor = SYSTEM, **line
) -> ProductionOrderMaterial:
    """One more material line; a released order reserves it at once."""
    material = order_services.production_order_material_add(
        order=order, component=component, **line
    )
    _in_step(material.order, material.order.status, actor)
    return material


@transaction.atomic
def order_material_remove(*, material: ProductionOrderMaterial, actor: Actor = SYSTEM) -> None:
    """Remove a material line; what a released order still had reserved for it is freed."""
    order_services.production_order_material_remove(material=material)
    order = order_services.lock_order(material.order_id)
    _in_step(order, order.status, actor)
