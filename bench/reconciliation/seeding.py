"""The seed, untimed, in bulk: the plant, the orders, the ledger, what waits for the ERP,
and the ERP's snapshot (Plan: what is written pair by pair).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

D = Decimal
PREFIX = "RC-"


LEDGER_COLUMNS = (
    "kind",
    "item_id",
    "location_id",
    "quantity",
    "unit_id",
    "order_ref",
    "source_type",
    "source_id",
    "posting_id",
    "reason",
    "actor",
    "occurred_at",
    "recorded_at",
)

# The baseline: the whole comparison in one statement (joins, not "IN (subquery) OR IN


class Plan:
    """What the seed writes, pair by pair (deterministic), and what the ERP books."""

    def __init__(self, pairs: int, components: int) -> None:
        self.components = components
        self.extra = max(1, pairs // 1000)  # ERP lines the MES does not know
        self.orders = max(1, (pairs - self.extra) // components)
        self.history = max(1, self.orders // 5)  # old closed / canceled orders, not listed

    @staticmethod
    def issued(k: int) -> list[Decimal]:
        """Signed ledger quantities of pair k (issues negative, a return positive)."""
        rows = [D(-(10 + k % 37))]
        if k % 5 == 1:
            rows.append(D(-(1 + k % 7)) - D("0.25"))
        if k % 20 == 3:
            rows.append(D(1))
        return rows

    @staticmethod
    def waiting(k: int) -> tuple[str, Decimal] | None:
        if k % 100 == 33:
            return "batch", D(2)
        if k % 100 == 34:
            return "message", D(4)
        return None

    @staticmethod
    def erp_delta(k: int) -> Decimal | None:
        """ERP minus MES for pair k; None: not in the snapshot."""
        if k % 1000 == 41:
            return None
        if k % 100 == 7:
            return D(5)
        if k % 200 == 13:
            return D(-3)
        if k % 100 == 21:
            return D("0.2")
        return D(0)


def seed(plan: Plan, url: str) -> dict:
    """Everything the run reads; returns ids and counts."""
    import psycopg
    from django.utils import timezone

    from integration.choices import MessageKind, MessageStatus
    from integration.models import ErpWipLine, ErpWipSnapshot, MaterialIssueBatch, OutboxMessage
    from inventory import services as inventory_services
    from inventory.choices import LocationKind, SourceType, TransactionKind
    from inventory.models import (
        InventoryTransaction,
        Item,
        Location,
        OnHand,
        Site,
        UnitOfMeasure,
        Warehouse,
    )
    from inventory.services import Source
    from mesproject.actors import Actor
    from orders.choices import OrderStatus
    from orders.models import ProductionOrder

    now = timezone.now()
    pcs = UnitOfMeasure.objects.create(code="pcs", name="pieces", decimal_places=0)
    kg = UnitOfMeasure.objects.create(code="kg", name="kilograms", decimal_places=3)
    site = Site.objects.create(code="RC", name="Reconciliation plant")
    warehouse = Warehouse.objects.create(site=site, code="MAIN", name="Main")
    location = Location.objects.create(
        warehouse=warehouse, code="IN", name="Line input", kind=LocationKind.PRODUCTION_INPUT
    )
    product = Item.objects.create(part_number=f"{PREFIX}BIKE", description="Bike", unit=pcs)
    parts = [
        Item.objects.create(part_number=f"{PREFIX}C{c:02d}", description=f"Part {c}", unit=kg)
        for c in range(plan.components)
    ]

    active_cycle = (OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)

    def order_row(number: str, status: str) -> ProductionOrder:
        return ProductionOrder(
            number=number,
            item=product,
            revision=product.revision,
            quantity=D(100),
            unit=pcs,
            site=site,
            status=status,
        )

    current = [
        order_row(
            f"{PREFIX}WO-{o:06d}",
            OrderStatus.CLOSED if o % 50 == 49 else active_cycle[o % 3],
        )
        for o in range(plan.orders)
    ]
    old = [
        order_row(
            f"{PREFIX}OLD-{o:06d}", OrderStatus.CANCELED if o % 4 == 0 else OrderStatus.CLOSED
        )
        for o in range(plan.history)
    ]
    created = ProductionOrder.objects.bulk_create(current + old, batch_size=5000)
    order_ids = {order.number: order.pk for order in created}

    # The ledger and the ERP's figures, pair by pair.
    ledger: list[tuple] = []
    taken = dict.fromkeys(range(plan.components), D(0))
    erp_lines: list[tuple[str, str, Decimal]] = []
    batches: list[MaterialIssueBatch] = []
    messages: list[OutboxMessage] = []
    sequences: dict[str, int] = {}

    def post(number: str, c: int, quantity: Decimal, tag: str) -> None:
        kind = TransactionKind.ISSUE if quantity < 0 else TransactionKind.RETURN
        ledger.append(
            (
                kind.value,
                parts[c].pk,
                location.pk,
                quantity,
                kg.pk,
                number,
                SourceType.REGISTRATION.value,
                tag,
                uuid.uuid4(),
                "",
                "process:bench",
                now,
                now,
            )
        )
        taken[c] -= quantity

    def message(number: str, part: str, quantity: Decimal, status: str) -> None:
        sequences[number] = sequences.get(number, 0) + 1
        messages.append(
            OutboxMessage(
                stream=number,
                sequence=sequences[number],
                kind=MessageKind.MATERIAL_ISSUE,
                transaction_uuid=uuid.uuid4(),
                order_id=order_ids[number],
                payload={
                    "wo_id": number,
                    "component_part": part,
                    "lot_number": "",
                    "qty_consumed": str(quantity),
                    "uom": "kg",
                    "postings": 1,
                },
                status=status,
                created_at=now,
                next_attempt_at=now,
            )
        )

    k = 0
    for o in range(plan.orders):
        number = current[o].number
        for c in range(plan.components):
            rows = plan.issued(k)
            for index, quantity in enumerate(rows):
                post(number, c, quantity, f"bench-{k}-{index}")
            ledger_wip = -sum(rows)
            waiting = plan.waiting(k)
            mes = ledger_wip
            if waiting:
                what, quantity = waiting
                mes -= quantity
                if what == "batch":
                    batches.append(
                        MaterialIssueBatch(
                            order_id=order_ids[number],
                            item=parts[c],
                            unit=kg,
                            quantity=quantity,
                            postings=1,
                            opened_at=now,
                        )
                    )
                else:
                    status = MessageStatus.DEAD_LETTER if k % 300 == 34 else MessageStatus.PENDING
                    message(number, parts[c].part_number, quantity, status)
            elif k % 100 == 35:  # already delivered: the ERP knows it, it must not count
                message(number, parts[c].part_number, D(6), MessageStatus.DELIVERED)
            delta = plan.erp_delta(k)
            if delta is not None:
                erp_lines.append((number, parts[c].part_number, mes + delta))
            k += 1
    for o in range(plan.history):  # old orders: ledger rows the run must leave out
        for c in range(plan.components):
            post(old[o].number, c, D(-(3 + (o + c) % 5)), f"bench-old-{o}-{c}")
    for e in range(plan.extra):  # the ERP lists what the MES does not know
        if e % 2:
            erp_lines.append(
                (f"{PREFIX}ERP-ONLY-{e:05d}", parts[e % plan.components].part_number, D(7))
            )
        else:
            erp_lines.append((current[e % plan.orders].number, f"{PREFIX}UNKNOWN-{e:05d}", D(9)))

    # Stock first (through the service), then the bulk issues; on-hand lowered to match.
    actor = Actor(process="bench")
    for c, part in enumerate(parts):
        inventory_services.inventory_receive(
            item=part,
            quantity=taken[c] + D(1_000_000),
            location=location,
            source=Source(SourceType.MANUAL, f"bench-stock-{c}"),
            actor=actor,
        )
    with psycopg.connect(url) as raw:
        table = InventoryTransaction._meta.db_table
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(LEDGER_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in ledger:
                copy.write_row(row)
        with raw.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {OnHand._meta.db_table} SET quantity = quantity - %s "
                "WHERE item_id = %s AND location_id = %s AND lot_id IS NULL",
                [(taken[c], part.pk, location.pk) for c, part in enumerate(parts)],
            )
        raw.commit()
    MaterialIssueBatch.objects.bulk_create(batches, batch_size=5000)
    OutboxMessage.objects.bulk_create(messages, batch_size=5000)
    snapshot = ErpWipSnapshot.objects.create(
        as_of=now - timedelta(hours=1), received_at=now, line_count=len(erp_lines)
    )
    with psycopg.connect(url) as raw:
        table = ErpWipLine._meta.db_table
        columns = "snapshot_id, wo_id, component_part, quantity, uom"
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for wo_id, part, quantity in erp_lines:
                copy.write_row((snapshot.pk, wo_id, part, quantity, "kg"))
        raw.commit()
        raw.execute("ANALYZE")
    return {
        "snapshot": snapshot,
        "ledger_rows": len(ledger) + len(parts),
        "erp_lines": len(erp_lines),
        "orders": len(created),
        "batches": len(batches),
        "messages": len(messages),
    }
