"""The comparison of a run: the ERP's figures, the MES ledger's, what the MES has not yet
reported, and the pairs that differ beyond both thresholds."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from integration.choices import OPEN_MESSAGE_STATUSES, MessageKind
from integration.models import (
    ErpWipLine,
    ErpWipSnapshot,
    MaterialIssueBatch,
    OutboxMessage,
)
from inventory.fields import ZERO, exact
from inventory.selectors import wip_balances
from orders.choices import OrderStatus
from orders.models import ProductionOrder

BATCH_SIZE = 5000
PROGRESS_EVERY = 5000
# Orders whose WIP the MES side brings in even when the ERP does not list them.
ACTIVE_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
PCT_QUANTUM = Decimal("0.0001")

Pair = tuple[str, str]  # (wo_id, component_part)


@dataclass
class Variance:
    wo_id: str
    part: str
    erp: Decimal
    mes: Decimal
    variance: Decimal
    pct: Decimal
    adjusted: bool = False
    note: str = ""


def _threshold(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name)))


def erp_figures(snapshot: ErpWipSnapshot) -> dict[Pair, Decimal]:
    rows = snapshot.lines.values_list("wo_id", "component_part", "quantity")
    return {(wo, part): exact(qty) for wo, part, qty in rows.iterator(chunk_size=BATCH_SIZE)}


def mes_figures(snapshot: ErpWipSnapshot) -> dict[Pair, Decimal]:
    """Ledger WIP (inventory's wip_balances) of every pair of an active order or an order the
    ERP lists, in one query."""
    active = ProductionOrder.objects.filter(status__in=ACTIVE_STATUSES).values("number")
    listed = ErpWipLine.objects.filter(snapshot=snapshot).values("wo_id")
    balances = wip_balances(order_refs=active.union(listed))
    return {(b.order_ref, b.part_number): b.balance for b in balances}


def unreported() -> dict[Pair, Decimal]:
    """What the MES consumed but has not reported to the ERP yet (the ERP cannot know it):
    open material-issue batches and undelivered material-issue messages; one query each."""
    waiting: dict[Pair, Decimal] = defaultdict(Decimal)
    batches = (
        MaterialIssueBatch.objects.values_list("order__number", "item__part_number")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    for wo, part, total in batches:
        waiting[(wo, part)] += exact(total)
    messages = OutboxMessage.objects.filter(
        kind=MessageKind.MATERIAL_ISSUE, status__in=OPEN_MESSAGE_STATUSES
    ).values_list("payload", flat=True)
    for payload in messages.iterator(chunk_size=BATCH_SIZE):
        key = (payload["wo_id"], payload["component_part"])
        waiting[key] += Decimal(str(payload["qty_consumed"]))
    return waiting


def compare(
    erp: dict[Pair, Decimal],
    mes: dict[Pair, Decimal],
    waiting: dict[Pair, Decimal],
    active: set[str],
    on_progress: Callable[[int, int], None] | None,
) -> tuple[int, list[Variance]]:
    threshold_qty = _threshold("MES_RECONCILIATION_THRESHOLD_QTY")
    threshold_pct = _threshold("MES_RECONCILIATION_THRESHOLD_PCT")
    # The ledger query also brings pairs of inactive orders the ERP lists for another part.
    pairs = sorted(erp.keys() | {pair for pair in mes if pair in erp or pair[0] in active})
    total = len(pairs)
    flagged = []
    for done, pair in enumerate(pairs, start=1):
        erp_qty = erp.get(pair, ZERO)
        mes_qty = mes.get(pair, ZERO) - waiting.get(pair, ZERO)
        variance = erp_qty - mes_qty
        base = max(abs(erp_qty), abs(mes_qty))
        # Both bars: a rounding difference on a big balance and noise on a tiny one pass.
        if base and abs(variance) > threshold_qty:
            pct = variance / base * 100
            if abs(pct) > threshold_pct:
                flagged.append(
                    Variance(*pair, erp_qty, mes_qty, variance, pct.quantize(PCT_QUANTUM))
                )
        if on_progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            on_progress(done, total)
    return total, flagged
