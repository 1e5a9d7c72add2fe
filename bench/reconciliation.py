"""The nightly WIP reconciliation (integration.reconciliation.services.reconciliation_run) of
--pairs order/component pairs, against one aggregate SQL query computing the same comparison.

    .venv/bin/python bench/reconciliation.py [--pairs 100000] [--components 10]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_recon]
        [--redis-url redis://127.0.0.1:6379/7]
    quick: .venv/bin/python bench/reconciliation.py --pairs 10000

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it and seeds, untimed, with bulk inserts (psycopg COPY for the big tables):

- one site, one input location, --components component items (not lot-tracked) and a
  product; (pairs - pairs/1000) / components orders of the product, 98 % of them active
  (released, in progress, completed) and 2 % closed, which the ERP still lists; and a fifth
  as many closed or canceled orders from before, with ledger rows the ERP does not list (the
  run must leave them out);
- the ledger: each pair one issue, a fifth of them a second one and one in twenty a return;
  each component received first (through inventory_receive) and its on-hand row lowered by
  what the bulk issues took, so on-hand still equals the sum of the ledger;
- waiting consumption the ERP cannot know yet: open material-issue batches (one pair in a
  hundred) and pending or dead-lettered material-issue outbox messages (another one in a
  hundred), plus delivered ones that must not count;
- the ERP snapshot (ErpWipSnapshot + ErpWipLine rows): per pair the MES figure (ledger minus
  waiting), except one pair in a hundred where the ERP books 5 more, one in two hundred 3
  less, one in a hundred a difference inside the threshold (0.2), one in a thousand missing
  from the snapshot, and pairs/1000 lines of orders or parts the MES does not know.

Timed, side by side on the same data (a warm-up of the baseline first, so both read from a
warm cache): the baseline, best of three (a single SELECT with CTEs: the snapshot's lines
FULL JOIN the ledger's sums per order reference and part of active or listed orders, minus
the open batches and messages, with the run's two thresholds; it answers the number of pairs
and the flagged ones in one row); then reconciliation_run itself, once, the way the nightly
task calls it (fetch, compare in Python, book the adjustment journal, write the variances
and the notifications), with its statements counted by an execute_wrapper and the moment
its compare phase ends taken from its on_progress callback.

Checked: the run compared as many pairs as the baseline and flagged exactly the same pairs
with the same ERP, MES and variance figures (percentages to 0.0001); its journal is posted;
a second run (a side figure) flags exactly the variances the first could not book; on-hand
still equals the ledger (inventory_verify). Prints a JSON line with the figures last.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    code_version,
    database_name,
    forget_nudges,
    machine,
    postgres_version,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_recon"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
D = Decimal
PREFIX = "RC-"
TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)

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
# (subquery)" over the CTEs: that form ran for minutes at 100,000 pairs). %(...)s: psycopg.
BASELINE_SQL = """
WITH erp AS (
    SELECT wo_id, component_part AS part, quantity AS qty
    FROM integration_erpwipline WHERE snapshot_id = %(snapshot)s
),
active AS (
    SELECT number FROM orders_productionorder WHERE status = ANY(%(active)s)
),
wanted AS (
    SELECT number AS wo_id FROM active UNION SELECT wo_id FROM erp
),
mes AS (
    SELECT t.order_ref AS wo_id, i.part_number AS part, -SUM(t.quantity) AS qty
    FROM inventory_inventorytransaction t
    JOIN wanted w ON w.wo_id = t.order_ref
    JOIN inventory_item i ON i.id = t.item_id
    WHERE t.kind = ANY(%(kinds)s)
    GROUP BY 1, 2
),
waiting AS (
    SELECT wo_id, part, SUM(qty) AS qty FROM (
        SELECT o.number AS wo_id, i.part_number AS part, b.quantity AS qty
        FROM integration_materialissuebatch b
        JOIN orders_productionorder o ON o.id = b.order_id
        JOIN inventory_item i ON i.id = b.item_id
        UNION ALL
        SELECT payload->>'wo_id', payload->>'component_part',
               (payload->>'qty_consumed')::numeric
        FROM integration_outboxmessage
        WHERE kind = %(issue_kind)s AND status = ANY(%(open)s)
    ) w GROUP BY 1, 2
),
pairs AS (
    SELECT COALESCE(e.wo_id, m.wo_id) AS wo_id, COALESCE(e.part, m.part) AS part,
           COALESCE(e.qty, 0) AS erp, COALESCE(m.qty, 0) AS ledger
    FROM erp e FULL JOIN mes m ON m.wo_id = e.wo_id AND m.part = e.part
    LEFT JOIN active a ON a.number = m.wo_id
    WHERE e.wo_id IS NOT NULL OR a.number IS NOT NULL
),
compared AS (
    SELECT p.wo_id, p.part, p.erp, p.ledger - COALESCE(w.qty, 0) AS mes
    FROM pairs p LEFT JOIN waiting w ON w.wo_id = p.wo_id AND w.part = p.part
)
SELECT count(*),
       json_agg(json_build_array(wo_id, part, erp::text, mes::text)) FILTER (
           WHERE GREATEST(abs(erp), abs(mes)) > 0
             AND abs(erp - mes) > %(qty)s
             AND abs(erp - mes) * 100 > %(pct)s * GREATEST(abs(erp), abs(mes)))
FROM compared
"""


# --- Seeding -------------------------------------------------------------------------------


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


# --- The two sides -------------------------------------------------------------------------


def baseline(url: str, snapshot_id: int) -> tuple[float, int, dict]:
    """(seconds, pairs, {(wo_id, part): (erp, mes)} flagged) of the single query."""
    import psycopg
    from django.conf import settings

    from integration.choices import OPEN_MESSAGE_STATUSES, MessageKind
    from integration.reconciliation.services.compare import ACTIVE_STATUSES
    from inventory.selectors import WIP_KINDS

    params = {
        "snapshot": snapshot_id,
        "active": [str(s) for s in ACTIVE_STATUSES],
        "kinds": [str(k) for k in WIP_KINDS],
        "issue_kind": str(MessageKind.MATERIAL_ISSUE),
        "open": [str(s) for s in OPEN_MESSAGE_STATUSES],
        "qty": D(str(settings.MES_RECONCILIATION_THRESHOLD_QTY)),
        "pct": D(str(settings.MES_RECONCILIATION_THRESHOLD_PCT)),
    }
    with psycopg.connect(url) as raw:
        started = time.perf_counter()
        total, flagged = raw.execute(BASELINE_SQL, params).fetchone()
        seconds = time.perf_counter() - started
    found = {(wo, part): (D(erp), D(mes)) for wo, part, erp, mes in flagged or []}
    return seconds, total, found


def service_run(snapshot) -> dict:
    """reconciliation_run, timed, its statements counted, its compare phase's end noted."""
    from django.db import connection

    from integration.reconciliation.services import reconciliation_run

    statements = [0]
    compared_at = [None]
    by_kind: dict[str, list] = {}

    def count(execute, sql, params, many, context):
        statements[0] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = by_kind.setdefault(statement_kind(sql), [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    def on_progress(done: int, total: int) -> None:
        if done == total:
            compared_at[0] = time.perf_counter()

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        run = reconciliation_run(
            trigger="command",
            actor_label="process:bench",
            snapshot=snapshot,
            on_progress=on_progress,
        )
        seconds = time.perf_counter() - started
    compare = (compared_at[0] or started) - started
    return {
        "run": run,
        "seconds": seconds,
        "compare_seconds": compare,
        "statements": statements[0],
        "by_kind": by_kind,
    }


def statement_kind(sql: str) -> str:
    """SELECT inventory_onhand, INSERT integration_reconciliationvariance, ..."""
    verb = (sql.split() or ["?"])[0].upper()
    if verb == "SELECT" and "FOR UPDATE" in sql.upper():
        verb = "SELECT FOR UPDATE"
    found = TABLE.search(sql)
    return f"{verb} {found.group(1) if found else ''}".strip()


def compare_answers(run, pairs: int, flagged: dict) -> list[str]:
    from integration.models import ReconciliationVariance

    problems = []
    if run.pairs_total != pairs:
        problems.append(f"the run compared {run.pairs_total:,} pairs, the baseline {pairs:,}")
    rows = {(v.wo_id, v.component_part): v for v in ReconciliationVariance.objects.filter(run=run)}
    if run.variances_flagged != len(rows):
        problems.append(f"run says {run.variances_flagged} flagged, {len(rows)} rows stored")
    only_run = sorted(rows.keys() - flagged.keys())
    only_base = sorted(flagged.keys() - rows.keys())
    if only_run:
        problems.append(f"{len(only_run)} flagged by the run only, e.g. {only_run[:3]}")
    if only_base:
        problems.append(f"{len(only_base)} flagged by the baseline only, e.g. {only_base[:3]}")
    differ = []
    for pair in rows.keys() & flagged.keys():
        v = rows[pair]
        erp, mes = flagged[pair]
        pct = (erp - mes) / max(abs(erp), abs(mes)) * 100
        if (v.erp_quantity, v.mes_quantity, v.variance) != (erp, mes, erp - mes) or abs(
            v.variance_pct - pct
        ) > D("0.0001"):
            differ.append(f"{pair}: run {v.erp_quantity}/{v.mes_quantity}, base {erp}/{mes}")
    if differ:
        problems.append(f"{len(differ)} pairs with other figures, e.g. {differ[:3]}")
    return problems


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100_000, help="order/component pairs")
    parser.add_argument("--components", type=int, default=10, help="components per order")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL (the bench runs on PostgreSQL)")
    database_name(url)
    var_dir = tempfile.mkdtemp(prefix="mes_bench_recon_")
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="mesproject.settings.base",
        MES_VAR_DIR=var_dir,
    )
    try:
        run(args, url)
    finally:
        forget_nudges(args.redis_url)
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, url: str) -> None:
    t0 = time.perf_counter()
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, stdout=io.StringIO())
    migrate_seconds = time.perf_counter() - t0
    from inventory.choices import JournalStatus
    from inventory.services import inventory_verify

    plan = Plan(args.pairs, args.components)
    t0 = time.perf_counter()
    seeded = seed(plan, url)
    seed_seconds = time.perf_counter() - t0
    snapshot = seeded["snapshot"]
    versions = postgres_version()

    load_before = os.getloadavg()[0]
    baseline(url, snapshot.pk)  # warm-up: the same pages in the cache for both sides
    tries = [baseline(url, snapshot.pk) for _ in range(3)]
    base_seconds = min(t[0] for t in tries)
    _seconds, base_pairs, base_flagged = tries[0]
    first = service_run(snapshot)
    load_after = os.getloadavg()[0]
    run1 = first["run"]
    problems = compare_answers(run1, base_pairs, base_flagged)

    from integration.models import ReconciliationVariance

    unbooked = ReconciliationVariance.objects.filter(run=run1, adjusted=False).count()
    booked = run1.variances_flagged - unbooked
    journal = run1.adjustment_journal
    if booked and (journal is None or journal.status != JournalStatus.POSTED):
        problems.append(f"the adjustment journal is {journal and journal.status}, not posted")
    second = service_run(snapshot)
    if second["run"].variances_flagged != unbooked:
        problems.append(
            f"the second run flagged {second['run'].variances_flagged}, "
            f"the first left {unbooked} unbooked"
        )
    if second["run"].adjustment_journal_id is not None:
        problems.append("the second run booked a journal again")
    report = inventory_verify()
    if not report.ok:
        problems.append("inventory_verify: on-hand differs from the ledger")

    pairs = run1.pairs_total
    seconds = first["seconds"]
    ratio = seconds / base_seconds
    print(
        f"{versions}; {machine()}; {pairs:,} order/component pairs ({seeded['orders']:,} orders "
        f"incl. {plan.history:,} old ones not listed, {args.components} components), "
        f"{seeded['ledger_rows']:,} ledger rows, {seeded['erp_lines']:,} ERP lines, "
        f"{seeded['batches']:,} open batches, {seeded['messages']:,} material-issue messages; "
        f"code {code_version()}"
    )
    print(
        f"setup (not timed): migrate {migrate_seconds:.1f} s, seed {seed_seconds:.1f} s; "
        f"load average {load_before:.1f} -> {load_after:.1f} during the runs"
    )
    print()
    print(f"{'':<52} {'pairs/s':>10} {'seconds':>8}")
    rows = (
        ("reconciliation_run (whole run)", seconds),
        ("  of which fetch + compare (until on_progress end)", first["compare_seconds"]),
        ("  of which book journal + variances + notify", seconds - first["compare_seconds"]),
        ("baseline: one aggregate SELECT (best of 3)", base_seconds),
        ("second run (nothing left to book; side figure)", second["seconds"]),
    )
    for label, s in rows:
        print(f"{label:<52} {pairs / s:>10,.0f} {s:>8.2f}")
    print()
    print(f"ratio reconciliation_run : one SELECT        {ratio:6.1f} : 1")
    compare_ratio = first["compare_seconds"] / base_seconds
    print(f"ratio fetch + compare    : one SELECT        {compare_ratio:6.1f} : 1")
    print(
        f"flagged {run1.variances_flagged:,} ({booked:,} booked into journal "
        f"{journal.pk if journal else '-'}, {unbooked:,} not bookable); baseline flagged "
        f"{len(base_flagged):,} of {base_pairs:,} pairs"
    )
    print(
        f"SQL statements: {first['statements']:,} for the run ({first['statements'] / pairs:.3f} "
        f"per pair, {first['statements'] / max(1, run1.variances_flagged):.1f} per flagged "
        f"variance); {second['statements']:,} for the second run; baseline 1"
    )
    print("where the first run's statements go (count, database seconds):")
    for kind, (n, s) in sorted(first["by_kind"].items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"    {kind:<60} {n:>7,} {s:>8.2f} s")
    database = sum(s for _n, s in first["by_kind"].values())
    print(f"    {'Python (Django, services) and COMMIT':<60} {'':>7} {seconds - database:>8.2f} s")
    print()
    print(f"checks: {'OK' if not problems else f'{len(problems)} PROBLEM(S)'}")
    for line in problems:
        print(f"    {line}")
    figures = {
        "bench": "reconciliation",
        "code": code_version(),
        "pairs": pairs,
        "components": args.components,
        "ledger_rows": seeded["ledger_rows"],
        "flagged": run1.variances_flagged,
        "booked": booked,
        "seconds": round(seconds, 3),
        "compare_seconds": round(first["compare_seconds"], 3),
        "baseline_seconds": round(base_seconds, 4),
        "pairs_per_s": round(pairs / seconds, 1),
        "baseline_pairs_per_s": round(pairs / base_seconds, 1),
        "ratio_run_to_baseline": round(ratio, 2),
        "second_run_seconds": round(second["seconds"], 3),
        "statements": first["statements"],
        "statements_per_pair": round(first["statements"] / pairs, 4),
        "statements_per_flagged": round(first["statements"] / max(1, run1.variances_flagged), 2),
        "second_run_statements": second["statements"],
        "ok": not problems,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
