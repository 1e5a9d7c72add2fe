"""The rows of the table each bench's figures make: ours, the baseline, the ratio, SQL per
unit.
"""

from __future__ import annotations


def row(figure, ours, baseline, unit, *, rate: bool, sql=None, sql_unit="", ok=True, note=""):
    """rate: higher is better (ratio baseline / ours); else a time (ratio ours / baseline)."""
    ratio = None
    if ours and baseline:
        ratio = baseline / ours if rate else ours / baseline
    return {
        "figure": figure,
        "ours": ours,
        "baseline": baseline,
        "unit": unit,
        "ratio": round(ratio, 2) if ratio is not None else None,
        "sql_per_unit": sql,
        "sql_unit": sql_unit,
        "ok": ok,
        "note": note,
    }


def registration_costs(f: dict, bare: float, ok: bool) -> list[dict]:
    """CPU seconds per 1,000 registrations of each processing run (processors and their
    PostgreSQL backends, against the bare INSERT's client and backend), and the rate per batch
    size of registrations_process (one processor), with the statements counted in that run."""
    rows = []
    workers = sorted(f["processing"].items(), key=lambda kv: int(kv[0]))
    for count, p in workers:
        if "worker_cpu_s_per_1000" not in p:
            continue  # figures from before the bench measured cost
        backend = p["backend_cpu_s_per_1000"]
        ceiling = p["cpu_bound_ceiling_per_s"]
        rows.append(
            row(
                f"registrations CPU s per 1,000, {count} worker{'s' if count != '1' else ''}",
                round(p["worker_cpu_s_per_1000"] + (backend or 0), 3),
                f.get("bare_insert_cpu_s_per_1000"),
                "cpu s",
                rate=False,
                sql=p["statements_per_registration"],
                sql_unit="registration",
                ok=ok and p.get("ok", True),
                note=(
                    f"worker {p['worker_cpu_s_per_1000']:.2f} + PostgreSQL backend "
                    f"{'-' if backend is None else f'{backend:.2f}'} s, "
                    f"{p['cores_busy']:.2f} cores busy, CPU-bound ceiling "
                    f"{'-' if ceiling is None else f'{ceiling:,.0f}'}/s; baseline: the bare "
                    "INSERT's client + backend"
                ),
            )
        )
    same = " (the 1-worker run above)"
    for batch, p in sorted(f.get("batch_sweep", {}).items(), key=lambda kv: int(kv[0])):
        backend = p["backend_cpu_s_per_1000"]
        rows.append(
            row(
                f"registrations processed/s, batch {batch}",
                p["registrations_per_s"],
                bare,
                "/s",
                rate=True,
                sql=p["statements_per_registration"],
                sql_unit="registration",
                ok=ok and p.get("ok", True) and f.get("same_results", True),
                note=(
                    f"1 worker, registrations_process(batch={batch})"
                    f"{same if int(batch) == f['processing'].get('1', {}).get('batch') else ''}; "
                    f"CPU s per 1,000: worker "
                    f"{p['worker_cpu_s_per_1000']:.2f} + backend "
                    f"{'-' if backend is None else f'{backend:.2f}'}"
                ),
            )
        )
    return rows


def rows_for(name: str, f: dict) -> list[dict]:
    ok = f.get("ok", True) is not False
    if name == "inventory_postings":
        return [
            row(
                "inventory postings/s (service, 1 per tx)",
                f["service_per_s"],
                f["bare_insert_per_s"],
                "/s",
                rate=True,
                sql=f["queries_per_movement"],
                sql_unit="posting",
                ok=ok,
                note=f"baseline: INSERT ... unnest of the same {f['movements']:,} rows",
            )
        ]
    if name == "registrations":
        n = f["registrations"]
        bare = n / f["bare_insert_seconds"]
        rows = []
        for workers, p in sorted(f["processing"].items(), key=lambda kv: int(kv[0])):
            rows.append(
                row(
                    f"registrations processed/s, {workers} worker{'s' if workers != '1' else ''}",
                    p["registrations_per_s"],
                    bare,
                    "/s",
                    rate=True,
                    sql=f.get("statements_per_registration_weighted")
                    or f.get("statements_per_registration"),
                    sql_unit="registration",
                    ok=ok and p.get("ok", True) and f.get("same_results", True),
                    note=(
                        f"baseline: bulk INSERT of the {f['rows_written']:,} rows the processor "
                        f"wrote for {n:,} registrations"
                    ),
                )
            )
        rows += registration_costs(f, bare, ok)
        return rows
    if name == "work_orders_http":
        rates, p50, p99 = f["req_per_s"], f["p50_ms"], f["p99_ms"]
        statements = f.get("statements", {})
        sql = statements.get("create (new)")
        note = "baseline: bare DRF insert (token, HasPerms) in the same gunicorn; sql: new create"
        return [
            row(
                "work-order creates/s (HTTP, 10% replays)",
                rates["create"],
                rates["bare"],
                "/s",
                rate=True,
                sql=sql,
                sql_unit="request",
                ok=ok,
                note=note + f", replay {statements.get('create (replay)')}",
            ),
            row(
                "work-order create p50 latency",
                p50["create"],
                p50["bare"],
                "ms",
                rate=False,
                sql=sql,
                sql_unit="request",
                ok=ok,
                note="client side, connection included",
            ),
            row(
                "work-order create p99 latency",
                p99["create"],
                p99["bare"],
                "ms",
                rate=False,
                sql=sql,
                sql_unit="request",
                ok=ok,
                note="client side, connection included",
            ),
        ]
    if name == "outbox_delivery":
        d = f["delivered_per_s"]
        threads = f["threads"]
        sql = f.get("statements_per_message")
        return [
            row(
                f"outbox delivered/s (relay, {threads} threads)",
                d[f"relay, MES_OUTBOX_THREADS={threads}"],
                d[f"bare urllib, {threads} threads"],
                "/s",
                rate=True,
                sql=sql,
                sql_unit="message",
                ok=ok,
                note=f"baseline: urllib POSTs of the same signed bodies, {threads} threads",
            ),
            row(
                "outbox delivered/s (relay, 1 thread)",
                d["relay, MES_OUTBOX_THREADS=1"],
                d["bare urllib loop, 1 thread"],
                "/s",
                rate=True,
                sql=sql,
                sql_unit="message",
                ok=ok,
                note="baseline: urllib loop of the same signed bodies, one thread",
            ),
        ]
    if name == "reconciliation":
        return [
            row(
                f"reconciliation: pairs/s ({f['pairs']:,} pairs)",
                f["pairs_per_s"],
                f["baseline_pairs_per_s"],
                "/s",
                rate=True,
                sql=f["statements_per_pair"],
                sql_unit="pair",
                ok=ok,
                note=(
                    f"baseline: one aggregate SELECT; {f['flagged']:,} flagged, "
                    f"{f['statements_per_flagged']} statements per flagged pair; compare "
                    f"phase alone {f['compare_seconds'] / f['baseline_seconds']:.1f}x"
                ),
            )
        ]
    if name == "scale_unit":
        n = f["registrations"]
        outage = f"{f['outage_s'] / 60:g}-minute outage"
        return [
            row(
                "scale unit -> hub registrations/s, end to end",
                f["su_end_to_end_per_s"],
                f["single_per_s"],
                "/s",
                rate=True,
                ok=ok,
                note=(
                    f"ours: forward {n:,} queued on the scale unit + hub processing; baseline: "
                    "the same posted to the hub directly + hub processing (single deployment)"
                ),
            ),
            row(
                f"backlog drain after a {outage} ({n:,} registrations)",
                f["drain_s"],
                f["single_total_s"],
                "s",
                rate=False,
                ok=ok,
                note=f"drain = {100 * f['drain_share_of_outage']:.1f}% of the outage's length",
            ),
        ]
    if name == "list_pages":
        rows = []
        for page, p in f["pages"].items():
            rows.append(
                row(
                    f"queries: {page}",
                    p["large"],
                    p["small"],
                    "queries",
                    rate=False,
                    sql=p["large"],
                    sql_unit="page view",
                    ok=p["small"] == p["large"],
                    note=f"ours: at {f['large']:,} rows, baseline: at {f['small']:,} ({p['url']})",
                )
            )
        return rows
    return []
