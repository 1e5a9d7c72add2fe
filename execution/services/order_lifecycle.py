"""An order's life as use cases: each transition's steps, in the order they run.

orders keeps the state machine (which transition is possible, its own conditions, the
history and the transition log); every caller that moves an order (planner page, admin,
ERP API, demo, the processor's automatic transitions) comes through here, so what a
release or a close does reads top-down:

- release: orders' checks and execution's (the quantity converts to the product's unit)
  → status → reserve the material → create the jobs → consume what is already staged at
  an available-at-location line's resource;
- unrelease: nothing registered yet → status → remove the jobs → free the reservations;
- unterminate: status → reserve again;
- cancel, close: status → free what is still reserved;
- reopen: status only;
- start, complete, resume: automatic, from reported quantities (order_quantities.py).

Then `order_changed` (execution.signals) tells integration, inside the same transaction,
so its outbox rows and scale-unit packages commit with the change or not at all.

Lock order: the order first (orders.services.lock_order), then what a step touches in the
product's one lock order (docs/execution.md, "An order's life").
"""

from django.db import transaction

from mesproject.actors import SYSTEM, Actor
from orders import services as order_services
from orders.choices import MANUAL_TRANSITIONS, Transition
from orders.models import ProductionOrder

from ..signals import order_changed
from .arrivals import order_consume_staged_material
from .jobs import order_create_jobs, order_remove_jobs, order_unrelease_blockers
from .materials import order_free_reservations, order_release_blockers, order_reserve_materials
from .order_quantities import order_record_quantities

__all__ = [
    "allowed_transitions",
    "order_cancel",
    "order_close",
    "order_record_quantities",
    "order_release",
    "order_transition",
    "transition_blockers",
]

# What execution itself may object to, per transition (orders' own conditions come first).
_EXECUTION_BLOCKERS = {
    Transition.RELEASE: order_release_blockers,
    Transition.UNRELEASE: order_unrelease_blockers,
}


def transition_blockers(*, order: ProductionOrder, transition: str) -> list[str]:
    """Why a transition may not happen now (orders' rules, then execution's); empty: it may."""
    reasons = order_services.transition_blockers(order=order, transition=transition)
    if reasons or transition not in _EXECUTION_BLOCKERS:
        return reasons
    return _EXECUTION_BLOCKERS[transition](order=order)


def allowed_transitions(*, order: ProductionOrder) -> list[tuple[str, list[str]]]:
    """The manual transitions possible from the current status, each with its blockers."""
    return [
        (name, transition_blockers(order=order, transition=name))
        for name in MANUAL_TRANSITIONS
        if getattr(order, name)._django_fsm.has_transition(order.status)
    ]


@transaction.atomic
def order_transition(
    *, order: ProductionOrder, transition: str, actor: Actor = SYSTEM, reason: str = ""
) -> ProductionOrder:
    """A manual transition (release, unrelease, cancel, close, reopen, unterminate)."""
    order = order_services.lock_order(order.pk)
    order_services.refuse_transition(
        order, transition, transition_blockers(order=order, transition=transition)
    )
    order = order_services.production_order_transition(
        order=order, transition=transition, actor=actor, reason=reason
    )
    if transition == Transition.RELEASE:
        order_reserve_materials(order=order, actor=actor)
        order_create_jobs(order=order, actor=actor)
        order_consume_staged_material(order=order, actor=actor)
    elif transition == Transition.UNRELEASE:
        order_remove_jobs(order=order)
        order_free_reservations(order=order, actor=actor)
    elif transition == Transition.UNTERMINATE:
        order_reserve_materials(order=order, actor=actor)
    elif transition in (Transition.CANCEL, Transition.CLOSE):
        order_free_reservations(order=order, actor=actor)
    order_changed.send(sender=ProductionOrder, order=order, transition=transition, actor=actor)
    return order


def order_release(*, order, actor: Actor = SYSTEM, reason: str = "") -> ProductionOrder:
    """Created -> Released: approved BOM and route; reservations, jobs, staged material."""
    return order_transition(order=order, transition=Transition.RELEASE, actor=actor, reason=reason)


def order_cancel(*, order, actor: Actor = SYSTEM, reason: str = "") -> ProductionOrder:
    """-> Canceled; nothing already posted is undone, what is reserved goes back."""
    return order_transition(order=order, transition=Transition.CANCEL, actor=actor, reason=reason)


def order_close(*, order, actor: Actor = SYSTEM, reason: str = "") -> ProductionOrder:
    """Completed -> Closed within the over-delivery tolerance, nothing in progress."""
    return order_transition(order=order, transition=Transition.CLOSE, actor=actor, reason=reason)
