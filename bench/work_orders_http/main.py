"""The bench's command line and its run: seed, start gunicorn, drive the rounds, check,
report.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from _common import (
    code_version,
    database_name,
    forget_nudges,
    free_port,
    machine,
    percentile,
    postgres_version,
    recreate_database,
)

from .load import CREATE, WO_PREFIX, Creates, Run, drive, merge
from .seeding import setup_database, statements_per_request
from .server import start_gunicorn, stop

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_api"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"


def main() -> None:
    # The first paragraph of the package's docstring says what the bench does.
    description = sys.modules[__package__].__doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--rounds", type=int, default=2, help="alternating ABC / CBA")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="DB_CONN_MAX_AGE for gunicorn (default: the settings' default, 0)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL")
    database_name(url)

    # The bench serves no static files: the missing collectstatic folder is not news.
    warnings.filterwarnings("ignore", message="No directory at")
    var_dir = tempfile.mkdtemp(prefix="mes_bench_api_")
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="bench_settings",
        MES_VAR_DIR=var_dir,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
    )
    if args.conn_max_age is not None:
        os.environ["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    try:
        run(args, url, Path(var_dir))
    finally:
        forget_nudges(args.redis_url)
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, url: str, var_dir: Path) -> None:
    t0 = time.perf_counter()
    recreate_database(url)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    token = setup_database()
    setup_seconds = time.perf_counter() - t0
    statements = statements_per_request(token)
    versions = postgres_version()
    conn_max_age = settings.DATABASES["default"].get("CONN_MAX_AGE", 0)
    connections.close_all()

    port = free_port()
    log_path = var_dir / "gunicorn.log"
    gunicorn = start_gunicorn(args.workers, port, dict(os.environ), log_path)
    creates = Creates()
    kinds = ["bare", "keyed", "create"]
    per_round = max(1, args.requests // args.rounds)
    runs: dict[str, list[Run]] = {kind: [] for kind in kinds}
    try:
        for kind in kinds:  # warm-up: imports, first connections, caches of both workers
            drive(port, token, kind, 10 * args.workers, args.concurrency, creates, seed=0)
        creates.answered.clear()
        load_before = os.getloadavg()[0]
        for number in range(args.rounds):
            order = kinds if number % 2 == 0 else kinds[::-1]
            for kind in order:
                runs[kind].append(
                    drive(
                        port,
                        token,
                        kind,
                        per_round,
                        args.concurrency,
                        creates,
                        seed=args.seed + number,
                    )
                )
        load_after = os.getloadavg()[0]
    finally:
        stop(gunicorn)
    log_tail = log_path.read_text()[-2000:] if log_path.exists() else ""

    # --- Checks against the database ---
    from django.db.models import Count

    from integration.models import IdempotencyKey, Notification
    from orders.models import ProductionOrder

    totals = {kind: merge(runs[kind]) for kind in kinds}
    everything = [o for kind in kinds for o in totals[kind].outcomes]
    statuses = {kind: Counter(o.status for o in totals[kind].outcomes) for kind in kinds}
    created = [o for o in totals["create"].outcomes if o.kind == "create"]
    replays = [o for o in totals["create"].outcomes if o.kind == "replay"]
    new_orders = sum(1 for o in created if o.status == 201 and not o.replayed)
    replays_ok = sum(1 for o in replays if o.status == 201 and o.replayed)
    problems = []
    # Warm-up creates and the in-process sample are in the database too.
    warm_orders = ProductionOrder.objects.filter(number__startswith=WO_PREFIX).count()
    expected_orders = creates.counter  # every wo_id handed out, warm-up included
    if warm_orders != expected_orders:
        problems.append(
            f"{warm_orders} orders {WO_PREFIX}* in the database, {expected_orders} sent"
        )
    duplicated = (
        ProductionOrder.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    if duplicated:
        problems.append(f"{duplicated} wo_ids stored more than once")
    bench_rows = Notification.objects.filter(role="bench", title="bench").count()
    sent_rows = (
        sum(1 for kind in ("bare", "keyed") for o in totals[kind].outcomes if o.status == 201)
        + 2 * 10 * args.workers
    )
    if bench_rows != sent_rows:
        problems.append(f"{bench_rows} bare rows in the database, {sent_rows} answered 201")
    for kind in kinds:
        bad = {s: n for s, n in statuses[kind].items() if s not in (200, 201)}
        if bad:
            problems.append(f"{kind}: unexpected statuses {bad}")
    if replays_ok != len(replays):
        problems.append(f"{len(replays) - replays_ok} of {len(replays)} replays not replayed")
    keys = IdempotencyKey.objects.filter(path=CREATE).count()

    # --- Report ---
    n = args.requests
    print(
        f"{versions}; {machine()}; gunicorn {args.workers} sync workers, {args.concurrency} "
        f"client threads, {per_round} requests x {args.rounds} rounds per endpoint, "
        f"CONN_MAX_AGE={conn_max_age}; code {code_version()}"
    )
    print(
        f"setup (migrate, seed_demo, roles; not timed): {setup_seconds:.1f} s; "
        f"load average {load_before:.1f} -> {load_after:.1f} during the runs"
    )
    print()
    labels = {
        "bare": "bare insert (no key)        POST /bench/insert/",
        "keyed": "bare insert + Idempotency-Key POST /api/v1/bench/insert/",
        "create": "work-order create (10% replays) POST /api/v1/work-orders/",
    }
    print(f"{'endpoint':<58} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  answers")
    rates = {}
    for kind in kinds:
        total = totals[kind]
        rates[kind] = total.requests / total.seconds
        lat = total.latencies()
        answers = ", ".join(f"{s}: {c}" for s, c in sorted(statuses[kind].items()))
        print(
            f"{labels[kind]:<58} {rates[kind]:>8.1f} {percentile(lat, 50) * 1e3:>8.1f} "
            f"{percentile(lat, 99) * 1e3:>8.1f}  {answers}"
        )
    for what, rows in (("  of which new orders (201)", created), ("  of which replays", replays)):
        lat = [o.seconds for o in rows]
        print(
            f"{what:<58} {'':>8} {percentile(lat, 50) * 1e3:>8.1f} "
            f"{percentile(lat, 99) * 1e3:>8.1f}  {len(rows)} requests"
        )
    print()
    print(
        "per round (req/s): "
        + "; ".join(
            f"{kind} " + " / ".join(f"{r.requests / r.seconds:.0f}" for r in runs[kind])
            for kind in kinds
        )
    )
    print(
        f"replays answered 201 with Idempotent-Replayed: true: {replays_ok} of {len(replays)}; "
        f"new orders answered 201: {new_orders}; orders {WO_PREFIX}* in the database: "
        f"{warm_orders} (= wo_ids sent incl. warm-up: {expected_orders}); idempotency keys "
        f"stored for creates: {keys}"
    )
    print()
    print("ratios, measured side by side in this run:")
    print(
        f"    req/s   bare insert : work-order create   {rates['bare'] / rates['create']:5.2f} : 1"
    )
    print(
        f"    req/s   bare + key  : work-order create   {rates['keyed'] / rates['create']:5.2f} : 1"
    )
    print(
        f"    req/s   bare insert : bare + key          {rates['bare'] / rates['keyed']:5.2f} : 1"
    )
    p50 = {kind: percentile(totals[kind].latencies(), 50) for kind in kinds}
    p50_new = percentile([o.seconds for o in created], 50)
    print(
        f"    p50     new order : bare insert         {p50_new / p50['bare']:5.2f} : 1   "
        f"new order : bare + key {p50_new / p50['keyed']:5.2f} : 1"
    )
    print()
    print("SQL statements per request (in-process sample of 5 each, whole middleware stack):")
    for label, count in statements.items():
        print(f"    {label:<20} {count:5.1f}")
    print()
    print(f"checks: {'OK' if not problems else f'{len(problems)} PROBLEM(S)'}")
    for line in problems:
        print(f"    {line}")
    if any(o.status >= 500 for o in everything) and log_tail:
        print("gunicorn log (tail):")
        print(log_tail)
    figures = {
        "bench": "work_orders_http",
        "code": code_version(),
        "requests_per_endpoint": n,
        "concurrency": args.concurrency,
        "gunicorn_workers": args.workers,
        "conn_max_age": conn_max_age,
        "req_per_s": {kind: round(rates[kind], 1) for kind in kinds},
        "p50_ms": {kind: round(p50[kind] * 1e3, 2) for kind in kinds},
        "p99_ms": {
            kind: round(percentile(totals[kind].latencies(), 99) * 1e3, 2) for kind in kinds
        },
        "ratio_bare_to_create": round(rates["bare"] / rates["create"], 2),
        "ratio_keyed_to_create": round(rates["keyed"] / rates["create"], 2),
        "statements": {label: round(v, 1) for label, v in statements.items()},
        "replays_ok": replays_ok,
        "replays": len(replays),
        "ok": not problems,
    }
    print(json.dumps(figures))
