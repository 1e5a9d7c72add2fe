"""run_all's command line: run the benches selected, print and write the table."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime

from _common import ROOT, code_version, machine

from .benches import BENCHES, RESULTS
from .figures import rows_for
from .running import run_bench
from .table import combine, table, write_latest


def main() -> None:
    # The first paragraph of the package's docstring says what the bench does.
    description = sys.modules[__package__].__doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
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
