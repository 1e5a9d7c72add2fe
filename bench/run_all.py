"""Every bench in bench/, one after the other, on PostgreSQL and Redis, and one table of what
they measured: each figure, its baseline measured in the same run, the ratio (how many times
slower than the baseline we are) and the SQL statements per unit of work.

    .venv/bin/python bench/run_all.py            # the default sizes: about 15-25 minutes
    .venv/bin/python bench/run_all.py --quick    # small sizes: about 3 minutes (BENCH_QUICK=1)
    .venv/bin/python bench/run_all.py --only reconciliation,list_pages
    .venv/bin/python bench/run_all.py --show     # the table of bench/results/latest.json

``make bench`` runs it (``make bench BENCH_QUICK=1`` the quick one). Each bench runs as a
subprocess (its own database, named mes_bench_*, dropped and created again; Redis db 7, where
no worker listens); its output goes to bench/results/logs/<timestamp>/<bench>.log and the
JSON line it prints last is parsed. The table is printed and written to
bench/results/bench-<timestamp>.json and bench/results/latest.json, the ratios drawn as a
horizontal bar chart in bench/results/latest.png (a run with --only replaces its benches'
rows in latest.json and keeps the others', each with the timestamp of its run). A bench that
fails (exit code, no JSON line, or its own checks not OK) is reported with the tail of its
log; the others are still printed, and the runner exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from _common import BENCH_DIR, ROOT, code_version, machine  # noqa: E402

RESULTS = BENCH_DIR / "results"
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/7")


@dataclass
class Bench:
    name: str
    script: str
    full: list[str]
    quick: list[str]
    database: str
    env: dict = field(default_factory=dict)
    url_argument: bool = True  # --database-url / --redis-url; else DATABASE_URL in the env


BENCHES = [
    Bench(
        "inventory_postings",
        "inventory_postings.py",
        full=["--count", "10000", "--sample", "2000"],
        quick=["--count", "500", "--sample", "200"],
        database="mes_bench_inv",
        url_argument=False,
    ),
    Bench(
        "registrations",
        "registrations.py",
        full=["--registrations", "4000", "--orders", "40", "--workers", "1,2"],
        quick=["--registrations", "500", "--orders", "10", "--workers", "1,2"],
        database="mes_bench_reg",
    ),
    Bench(
        "work_orders_http",
        "work_orders_http.py",
        full=["--requests", "2000"],
        quick=["--requests", "100"],
        database="mes_bench_api",
    ),
    Bench(
        "outbox_delivery",
        "outbox_delivery.py",
        full=["--messages", "5000"],
        quick=["--messages", "300"],
        database="mes_bench_outbox",
    ),
    Bench(
        "reconciliation",
        "reconciliation.py",
        full=["--pairs", "100000"],
        quick=["--pairs", "10000"],
        database="mes_bench_recon",
    ),
    Bench(
        "list_pages",
        "list_pages.py",
        full=["--small", "10", "--large", "5000"],
        quick=["--small", "10", "--large", "500"],
        database="mes_bench_pages",
    ),
    Bench(
        "scale_unit",
        "scale_unit.py",
        full=["--outage-minutes", "10", "--rate", "200"],
        quick=["--outage-minutes", "1", "--rate", "200"],
        database="mes_bench_hub",
    ),
]
# Benches that take no --redis-url (their own Redis db, or none at all).
NO_REDIS_ARGUMENT = {"registrations", "scale_unit"}


# --- Running -------------------------------------------------------------------------------


def command(bench: Bench, quick: bool) -> tuple[list[str], dict]:
    url = f"{POSTGRES}/{bench.database}"
    args = list(bench.quick if quick else bench.full)
    env = {**os.environ, **bench.env, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if bench.url_argument:
        args += ["--database-url", url]
        if bench.name not in NO_REDIS_ARGUMENT:
            args += ["--redis-url", REDIS]
    else:
        env["DATABASE_URL"] = url
    return [sys.executable, str(BENCH_DIR / bench.script), *args], env


def last_json(text: str) -> dict | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the bench's process group, SIGKILL if it is still there 10 s later."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def run_bench(bench: Bench, quick: bool, log_dir: Path, timeout: float) -> dict:
    argv, env = command(bench, quick)
    log_path = log_dir / f"{bench.name}.log"
    shown = " ".join(Path(a).name if a == argv[1] else a for a in argv[1:])
    print(f"--> {bench.name}: {shown}", flush=True)
    started = time.perf_counter()
    error = None
    captured: list[str] = []
    with log_path.open("w") as log:
        log.write(f"$ {' '.join(argv)}\n\n")
        log.flush()
        # Its own session: on a timeout or Ctrl-C the bench and what it started (gunicorn,
        # the simulator, processor children) are stopped together, by process group.
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                captured.append(line)
                log.write(line)
                log.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            returncode = process.wait()
            error = f"killed after {timeout:.0f} s"
        except KeyboardInterrupt:
            stop_group(process)
            raise
        reader.join(timeout=10)
    seconds = time.perf_counter() - started
    text = "".join(captured)
    figures = last_json(text)
    if error is None and returncode != 0:
        error = f"exit code {returncode}"
    if error is None and figures is None:
        error = "no JSON line in its output"
    if error is None and figures.get("ok") is False:
        error = "its checks failed (ok: false)"
    state = "OK" if error is None else f"FAILED ({error})"
    print(f"    {state} in {seconds:.0f} s; log {log_path.relative_to(ROOT)}", flush=True)
    if error is not None:
        tail = "".join(captured[-25:])
        print("    " + tail.replace("\n", "\n    ").rstrip(), flush=True)
    return {
        "command": shown,
        "returncode": returncode,
        "seconds": round(seconds, 1),
        "error": error,
        "figures": figures,
        "log": str(log_path.relative_to(ROOT)),
    }


# --- The table -----------------------------------------------------------------------------


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


def number(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "queries":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.1f} s"
    return f"{value:,.1f}/s" if value < 100 else f"{value:,.0f}/s"


def table(rows: list[dict]) -> str:
    header = (
        f"{'figure':<46} {'ours':>12} {'baseline':>12} {'x slower':>10} "
        f"{'SQL per unit':>22}  {'check':<5}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:,.1f}x"
        sql = "-" if r["sql_per_unit"] is None else f"{r['sql_per_unit']:g} / {r['sql_unit']}"
        lines.append(
            f"{r['figure']:<46} {number(r['ours'], r['unit']):>12} "
            f"{number(r['baseline'], r['unit']):>12} {ratio:>10} {sql:>22}  "
            f"{'OK' if r['ok'] else 'FAIL':<5}"
        )
    return "\n".join(lines)


def chart(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [r for r in rows if r["ratio"] is not None]
    if not drawn:
        return
    labels = [r["figure"] for r in drawn][::-1]
    ratios = [r["ratio"] for r in drawn][::-1]
    colors = [
        "#c0392b" if not r["ok"] else "#e67e22" if r["ratio"] > 5 else "#2e86c1" for r in drawn
    ][::-1]
    fig, ax = plt.subplots(figsize=(11, 0.38 * len(drawn) + 1.6))
    bars = ax.barh(labels, ratios, color=colors)
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=0.8)
    ax.axvline(5, color="#e67e22", linewidth=0.8, linestyle="--")
    for bar, ratio in zip(bars, ratios, strict=True):
        ax.text(
            bar.get_width() * 1.05,
            bar.get_y() + bar.get_height() / 2,
            f"{ratio:,.1f}x",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0.8, max(ratios) * 3)
    ax.set_xlabel(
        "times slower than the baseline measured in the same run (log scale; 1 = as fast)"
    )
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def combine(previous: dict, newer: dict) -> dict:
    """latest.json after a partial run: the newer run's benches replace the previous ones;
    each bench keeps the timestamp of the run it comes from (its ratio was measured side by
    side within that run)."""
    runs = dict(
        previous.get("runs") or dict.fromkeys(previous.get("benches", {}), previous["timestamp"])
    )
    benches = dict(previous.get("benches", {}))
    for name, result in newer["benches"].items():
        benches[name] = result
        runs[name] = newer["timestamp"]
    order = [b.name for b in BENCHES]
    rows = [r for r in previous.get("rows", []) if r["bench"] not in newer["benches"]]
    rows += newer["rows"]
    rows.sort(key=lambda r: order.index(r["bench"]) if r["bench"] in order else len(order))
    return {
        **newer,
        "timestamp": max(runs.values()),
        "mode": "+".join(sorted({previous.get("mode", "?"), newer["mode"]})),
        "rows": rows,
        "benches": benches,
        "runs": runs,
        "failed": [name for name, result in benches.items() if result.get("error")],
    }


def write_latest(document: dict) -> None:
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    title = (
        f"make bench ({document['mode']} sizes), {document['timestamp']}, code {document['code']}"
    )
    try:
        chart(document["rows"], RESULTS / "latest.png", title)
    except Exception as error:  # no chart must not lose the table
        print(f"no chart ({type(error).__name__}: {error})")


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
        help="small sizes, about 3 minutes (also BENCH_QUICK=1)",
    )
    parser.add_argument("--only", default="", help="comma-separated bench names")
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before a bench is killed"
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="print the table of bench/results/latest.json, run nothing",
    )
    args = parser.parse_args()
    if args.show:
        latest = json.loads((RESULTS / "latest.json").read_text())
        runs = latest.get("runs") or {"all": latest["timestamp"]}
        print(f"bench/results/latest.json ({latest['mode']} sizes; runs {runs}):")
        print()
        print(table(latest["rows"]))
        return
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - {b.name for b in BENCHES}
    if unknown:
        sys.exit(f"unknown bench(es): {', '.join(sorted(unknown))}")
    selected = [b for b in BENCHES if not only or b.name in only]

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / "logs" / stamp
    log_dir.mkdir(parents=True, exist_ok=True)
    mode = "quick" if args.quick else "full"
    host = machine()
    version = code_version()
    print(f"bench run {stamp} ({mode} sizes); {host}; code {version}", flush=True)

    started = time.perf_counter()
    results = {b.name: run_bench(b, args.quick, log_dir, args.timeout) for b in selected}
    total = time.perf_counter() - started

    rows = []
    for name, result in results.items():
        if result["figures"] is None:
            continue
        try:
            for r in rows_for(name, result["figures"]):
                r["bench"] = name
                if result["error"]:
                    r["ok"] = False
                rows.append(r)
        except (KeyError, TypeError, ZeroDivisionError) as error:
            result["error"] = result["error"] or f"figures not understood: {error!r}"
    failed = [name for name, result in results.items() if result["error"]]

    print()
    print(f"Benchmarks, {mode} sizes, {stamp}; {host}; code {version}; {total / 60:.1f} min in all")
    print("ratio: how many times slower than the baseline measured side by side in this run")
    print()
    print(table(rows))
    print()
    pages = [r for r in rows if r["bench"] == "list_pages"]
    for r in rows:
        if r["note"] and r["bench"] != "list_pages":
            print(f"  {r['figure']}: {r['note']}")
    if pages:
        print(
            f"  queries: <page>: {pages[0]['note'].split(' (')[0]}; Django test client, whole stack"
        )
    print()
    for name, result in results.items():
        state = "OK" if not result["error"] else f"FAILED: {result['error']}"
        print(f"  {name:<20} {result['seconds']:>6.0f} s  {state}  [{result['command']}]")

    document = {
        "timestamp": stamp,
        "mode": mode,
        "machine": host,
        "code": version,
        "seconds": round(total, 1),
        "rows": rows,
        "benches": results,
        "failed": failed,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamped = RESULTS / f"bench-{stamp}.json"
    stamped.write_text(json.dumps(document, indent=2) + "\n")
    latest = document
    if only and (RESULTS / "latest.json").exists():
        # A partial run updates its benches in latest.json and keeps the others' rows.
        latest = combine(json.loads((RESULTS / "latest.json").read_text()), document)
    write_latest(latest)
    print()
    print(f"written: {stamped.relative_to(ROOT)}, bench/results/latest.json and latest.png")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
