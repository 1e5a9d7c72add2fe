"""The bench's command line and its run: seed, time both sides, check, report."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time

from _common import (
    code_version,
    database_name,
    forget_nudges,
    machine,
    postgres_version,
    recreate_database,
)

from .seeding import Plan, seed
from .sides import baseline, compare_answers, service_run

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_recon"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"


def main() -> None:
    # The first paragraph of the package's docstring says what the bench does.
    description = sys.modules[__package__].__doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
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
