"""The two sides timed: the baseline (one aggregate SELECT) and reconciliation_run itself,
and the comparison of their answers.
"""

from __future__ import annotations

import re
import time

from .seeding import D

TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


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
