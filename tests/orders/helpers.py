"""Shared checks for the order tests: what the database holds about one order."""

from orders.models import ProductionOrder


def reload(order: ProductionOrder) -> ProductionOrder:
    return ProductionOrder.objects.get(pk=order.pk)


def snapshot(order: ProductionOrder) -> dict:
    """Everything stored about the order, to prove a refused call changed nothing."""
    row = ProductionOrder.objects.filter(pk=order.pk).values().get()
    return {
        "order": row,
        "history": list(order.history.values_list("history_id", flat=True)),
        "log": list(order.transition_log.values_list("id", flat=True)),
        "materials": list(order.materials.values()),
        "steps": list(order.steps.values()),
    }


def log_chain(order: ProductionOrder) -> list[tuple[str, str, str]]:
    """(transition, from, to) of every transition of the order, oldest first."""
    return list(
        order.transition_log.order_by("id").values_list("transition", "from_status", "to_status")
    )
