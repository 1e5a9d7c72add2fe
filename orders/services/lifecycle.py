"""The production order's state machine: what may block a manual transition, the status
move and its log, and the automatic transitions that follow reported quantities.
"""

from decimal import Decimal

from django.db import transaction

from inventory.fields import ZERO, show
from inventory.models import validate_quantity_for_unit
from mesproject.actors import SYSTEM, Actor
from mesproject.deployment import refuse_hub_owned
from mesproject.errors import ApplicationError, NotAllowed
from mesproject.locks import lock_row

from ..choices import MANUAL_TRANSITIONS, OrderStatus, Transition
from ..models import OrderTransitionLog, ProductionOrder
from .bom_route import _explode_bom, find_release_master_data

RUNNING = (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)


def lock_order(order_id: int) -> ProductionOrder:
    """The order row, locked until the end of the transaction (mesproject.locks)."""
    return lock_row(ProductionOrder, order_id)


def _close_reasons(order: ProductionOrder) -> list[str]:
    reasons = []
    completed, quantity = order.quantity_completed, order.quantity
    if completed < quantity:
        reasons.append(
            f"completed quantity {show(completed)} is below the order quantity {show(quantity)}"
        )
    if completed > order.max_completed_quantity:
        reasons.append(
            f"completed quantity {show(completed)} is above the over-delivery tolerance "
            f"({show(order.max_completed_quantity)} at most)"
        )
    if order.quantity_in_progress > 0:
        reasons.append(f"{show(order.quantity_in_progress)} still in progress")
    return reasons


def transition_blockers(*, order: ProductionOrder, transition: str) -> list[str]:
    """Why a transition may not happen now; empty when it may."""
    method = getattr(order, transition, None)
    if method is None or transition not in Transition.values:
        return [f"unknown transition {transition!r}"]
    meta = method._django_fsm
    if not meta.has_transition(order.status):
        return [f"{Transition(transition).label} is not possible from {order.get_status_display()}"]
    reasons: list[str] = []
    if transition == Transition.RELEASE:
        reasons += find_release_master_data(order)[2]
    elif transition == Transition.UNRELEASE and order.has_activity():
        reasons.append("quantities have already been reported on the order")
    elif transition == Transition.CLOSE:
        reasons += _close_reasons(order)
    return reasons


def refuse_transition(order: ProductionOrder, transition: str, blockers: list[str]) -> None:
    """The refusal of a transition that has blockers (orders' own or a higher app's)."""
    if blockers:
        label = Transition(transition).label
        raise NotAllowed(
            f"{label} of order {order.number} refused: {'; '.join(blockers)}.",
            code=f"{transition}_refused",
            fields={"status": order.status, "reasons": blockers},
        )


def allowed_transitions(*, order: ProductionOrder) -> list[tuple[str, list[str]]]:
    """The manual transitions possible from the current status, each with its blockers."""
    result = []
    for name in MANUAL_TRANSITIONS:
        if getattr(order, name)._django_fsm.has_transition(order.status):
            result.append((name, transition_blockers(order=order, transition=name)))
    return result


def _stamp(order: ProductionOrder, actor: Actor, reason: str) -> None:
    """Why (and, when a person asked, who) for the history record the next save writes."""
    order._change_reason = reason
    if actor.user is not None:
        order._history_user = actor.user


def _apply(order: ProductionOrder, transition: str, actor: Actor, reason: str = "") -> None:
    """Move the status (already checked), save, and write the transition log."""
    from_status = order.status
    getattr(order, transition)()
    _stamp(order, actor, reason or Transition(transition).label)
    order.save()
    OrderTransitionLog.objects.create(
        order=order,
        transition=transition,
        from_status=from_status,
        to_status=order.status,
        user=actor.user,
        actor=actor.label,
        reason=reason,
    )


@transaction.atomic
def production_order_transition(
    *, order: ProductionOrder, transition: str, actor: Actor = SYSTEM, reason: str = ""
) -> ProductionOrder:
    """The status move of a manual transition (release, unrelease, cancel, close, reopen,
    unterminate) with orders' own checks. What else a transition does is execution's use
    case (execution.services.order_lifecycle), which every caller goes through."""
    refuse_hub_owned("Production orders")
    if transition not in MANUAL_TRANSITIONS:
        raise ApplicationError(
            f"{transition!r} is not a transition that can be asked for.", code="invalid_transition"
        )
    order = lock_order(order.pk)
    refuse_transition(order, transition, transition_blockers(order=order, transition=transition))
    if transition == Transition.RELEASE:
        bom, route, _ = find_release_master_data(order)
        order.bom, order.route = bom, route
        # Once per order: a re-release after an unrelease keeps the lines it has.
        if not order.materials.filter(bom_line__isnull=False).exists():
            _explode_bom(order, bom)
    _apply(order, transition, actor, reason)
    return order


def _settle_running_status(order: ProductionOrder, actor: Actor, reason: str) -> None:
    """The automatic transitions: a running order's status follows its quantities."""
    if order.status == OrderStatus.RELEASED and order.has_activity():
        _apply(order, Transition.START, actor, reason)
    if order.status not in RUNNING:
        return
    implied = order.implied_running_status()
    if order.status == OrderStatus.IN_PROGRESS and implied == OrderStatus.COMPLETED:
        _apply(order, Transition.COMPLETE, actor, reason)
    elif order.status == OrderStatus.COMPLETED and implied == OrderStatus.IN_PROGRESS:
        _apply(order, Transition.RESUME, actor, reason)


@transaction.atomic
def production_order_record_quantities(
    *,
    order: ProductionOrder,
    in_progress: Decimal = ZERO,
    good: Decimal = ZERO,
    scrap: Decimal = ZERO,
    work_started: bool = False,
    actor: Actor = SYSTEM,
    reason: str = "",
) -> ProductionOrder:
    """Add reported quantities (negative = correction) and apply the automatic transitions.

    A start moves a Released order to In Progress even with no quantity.
    """
    order = lock_order(order.pk)
    if order.status not in (OrderStatus.RELEASED, *RUNNING):
        raise NotAllowed(
            f"Order {order.number} is {order.get_status_display()}: no quantity can be "
            "reported on it.",
            code="order_not_running",
            fields={"status": order.status},
        )
    changes = {
        "quantity_in_progress": in_progress,
        "quantity_completed": good,
        "quantity_scrapped": scrap,
    }
    for field, delta in changes.items():
        validate_quantity_for_unit(Decimal(delta), order.unit, field)
        new_value = getattr(order, field) + Decimal(delta)
        if new_value < 0:
            raise ApplicationError(
                f"{field.replace('_', ' ')} of order {order.number} would become negative "
                f"({show(new_value)}).",
                code="quantity_negative",
                fields={field: str(new_value)},
            )
        setattr(order, field, new_value)
    _stamp(order, actor, reason or "quantities reported")
    if order.status == OrderStatus.RELEASED and work_started:
        _apply(order, Transition.START, actor, reason or "work started")
    order.save()
    _settle_running_status(order, actor, reason)
    return order
