"""Consumption postings through the inventory service vs a bare bulk INSERT of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mes_bench \\
        .venv/bin/python bench/inventory_postings.py [--count 100000]
    quick: ... bench/inventory_postings.py --count 5000 --sample 1000

Drops and recreates the database named in DATABASE_URL (it must start with "mes_bench"),
migrates it, receives enough stock, then in one run:

1. posts --count consumption movements through services.inventory_issue, one transaction
   each (as the registration processor does);
2. the same through the service, 1,000 per transaction (what commits cost);
3. COPYs the same ledger rows into the same table with psycopg, one transaction (bare);
4. one multi-row INSERT ... SELECT FROM unnest() of the same rows (bare, SQL).

It prints movements/s for each, the ratio service / bare, the queries per movement and where
a service posting spends its time (each SQL statement, COMMIT, and Python), then a JSON line
with the figures. A ratio, measured side by side, not a timed test.
"""

import argparse
import json
import os
import sys
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLUMNS = (
    "kind",
    "item_id",
    "lot_id",
    "location_id",
    "reservation_id",
    "quantity",
    "unit_id",
    "order_ref",
    "parent_lot_id",
    "source_type",
    "source_id",
    "posting_id",
    "reason",
    "user_id",
    "actor",
    "occurred_at",
    "recorded_at",
)


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("mes_bench"):
        sys.exit(f"refusing to drop {name!r}: the bench database name must start with mes_bench")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} movements/s  ({seconds:8.2f} s for {count:,})"


class StatementTimer:
    """A Django execute_wrapper adding up database time per kind of statement."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.count = defaultdict(int)

    @staticmethod
    def label(sql: str) -> str:
        head = " ".join(sql.split())[:80].upper()
        table = next(
            (t for t in ("ONHAND", "RESERVATION", "INVENTORYTRANSACTION", "LOT") if t in head),
            "?",
        )
        verb = head.split(" ", 1)[0]
        if verb == "SELECT" and "FOR UPDATE" in " ".join(sql.split()).upper():
            verb = "SELECT FOR UPDATE"
        return f"{verb} {table.lower()}"

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            label = self.label(sql)
            self.seconds[label] += time.perf_counter() - started
            self.count[label] += 1


@contextmanager
def timed_commits(connection, sink: dict):
    """Time COMMITs (they do not go through execute wrappers)."""
    original = connection._commit

    def commit():
        started = time.perf_counter()
        try:
            return original()
        finally:
            sink["commit"] += time.perf_counter() - started
            sink["commits"] += 1

    connection._commit = commit
    try:
        yield
    finally:
        connection._commit = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="movements per run")
    parser.add_argument("--sample", type=int, default=5_000, help="movements profiled")
    args = parser.parse_args()
    count, sample = args.count, min(args.sample, args.count)
    batched = min(count, 20_000)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://.../mes_bench (the bench runs on PostgreSQL)")
    recreate_database(url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "mesproject.settings.base"
    import django

    django.setup()

    import psycopg
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from inventory import services
    from inventory.choices import SourceType, TransactionKind
    from inventory.models import (
        InventoryTransaction,
        Item,
        Location,
        Site,
        UnitOfMeasure,
        Warehouse,
    )
    from inventory.services import Source
    from mesproject.actors import Actor

    call_command("migrate", verbosity=0)
    pcs = UnitOfMeasure.objects.create(code="PCS", name="pieces", decimal_places=0)
    item = Item.objects.create(part_number="BENCH-1", unit=pcs)
    site = Site.objects.create(code="B1", name="Bench plant")
    warehouse = Warehouse.objects.create(site=site, code="W", name="Bench warehouse")
    location = Location.objects.create(warehouse=warehouse, code="LINE-IN")
    item = Item.objects.select_related("unit").get(pk=item.pk)
    actor = Actor(process="bench")
    one = Decimal(1)
    total_needed = count + batched + sample + 200
    services.inventory_receive(
        item=item,
        quantity=Decimal(total_needed),
        location=location,
        source=Source(SourceType.ERP_MESSAGE, "bench-receipt"),
        actor=actor,
    )

    def consume(i: int) -> InventoryTransaction:
        return services.inventory_issue(
            item=item,
            quantity=one,
            location=location,
            order_ref=f"WO-{i % 100:03d}",
            source=Source(SourceType.REGISTRATION, str(i)),
            actor=actor,
        )

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"PostgreSQL {server}, synchronous_commit={sync_commit}, {count:,} movements")

    for i in range(100):  # warm-up: caches, prepared plans, connection
        consume(-1 - i)

    # 1. Through the service, one transaction per movement.
    started = time.perf_counter()
    for i in range(count):
        consume(i)
    service_seconds = time.perf_counter() - started

    # 2. Through the service, 1,000 movements per transaction.
    started = time.perf_counter()
    for first in range(0, batched, 1000):
        with transaction.atomic():
            for i in range(first, min(first + 1000, batched)):
                consume(count + i)
    batched_seconds = time.perf_counter() - started

    # Queries per movement and where the time goes, on a sample (outside the timed runs).
    with CaptureQueriesContext(connection) as captured:
        for i in range(100):
            consume(10_000_000 + i)
    queries_per_movement = len(captured.captured_queries) / 100
    timer, commits = StatementTimer(), defaultdict(float)
    started = time.perf_counter()
    with connection.execute_wrapper(timer), timed_commits(connection, commits):
        for i in range(sample):
            consume(20_000_000 + i)
    sample_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = services.inventory_verify()
    verify_seconds = time.perf_counter() - started
    rows_after_service = InventoryTransaction.objects.count()

    # 3 and 4. Bare: the same ledger rows (one consumption each), without the service.
    now = timezone.now()
    location_id, item_id, unit_id = location.pk, item.pk, pcs.pk

    def rows():
        for i in range(count):
            yield (
                TransactionKind.ISSUE.value,
                item_id,
                None,
                location_id,
                None,
                Decimal(-1),
                unit_id,
                f"WO-{i % 100:03d}",
                None,
                SourceType.REGISTRATION.value,
                f"bulk-{i}",
                uuid.uuid4(),
                "",
                None,
                "process:bench",
                now,
                now,
            )

    prepared = list(rows())
    table = InventoryTransaction._meta.db_table
    with psycopg.connect(url) as raw:
        started = time.perf_counter()
        copy_sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in prepared:
                copy.write_row(row)
        raw.commit()
        copy_seconds = time.perf_counter() - started

        columns = list(zip(*prepared, strict=True))
        types = (
            "text", "bigint", "bigint", "bigint", "bigint", "numeric", "bigint", "text",
            "bigint", "text", "text", "uuid", "text", "bigint", "text", "timestamptz",
            "timestamptz",
        )  # fmt: skip
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        started = time.perf_counter()
        with raw.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT * FROM unnest({unnest})",
                [list(column) for column in columns],
            )
        raw.commit()
        insert_seconds = time.perf_counter() - started

    print()
    print(f"service, 1 movement per transaction   {rate(count, service_seconds)}")
    print(f"service, 1,000 per transaction        {rate(batched, batched_seconds)}")
    print(f"bare COPY, one transaction            {rate(count, copy_seconds)}")
    print(f"bare INSERT ... unnest, one statement {rate(count, insert_seconds)}")
    service_rate = count / service_seconds
    print()
    print(f"ratio bare COPY / service             {(count / copy_seconds) / service_rate:8.1f} x")
    print(f"ratio bare INSERT / service           {(count / insert_seconds) / service_rate:8.1f} x")
    print(
        f"ratio service batched / service       {(batched / batched_seconds) / service_rate:8.1f} x"
    )
    print(f"queries per movement (service)        {queries_per_movement:8.1f}")
    for query in captured.captured_queries[:4]:
        print(f"    {query['sql'][:110]}")

    per = sample_seconds / sample * 1e6
    print()
    print(f"where a service posting spends its {per:.0f} us (sample of {sample:,}):")
    accounted = 0.0
    for label, seconds in sorted(timer.seconds.items(), key=lambda kv: -kv[1]):
        share = seconds / sample * 1e6
        accounted += share
        print(f"    {label:<34} {share:7.0f} us  ({timer.count[label] / sample:.1f} per movement)")
    commit_us = commits["commit"] / sample * 1e6
    accounted += commit_us
    print(f"    {'COMMIT':<34} {commit_us:7.0f} us")
    print(f"    {'Python (Django, service checks)':<34} {per - accounted:7.0f} us")
    print()
    print(
        f"verify_inventory over {rows_after_service:,} ledger rows: "
        f"{'OK' if report.ok else 'DIFFERENCES'} in {verify_seconds:.2f} s "
        "(before the bare rows, which bypass on-hand on purpose)"
    )
    figures = {
        "bench": "inventory_postings",
        "code": code_version(),
        "movements": count,
        "postgres": server,
        "synchronous_commit": sync_commit,
        "service_per_s": round(service_rate, 1),
        "service_batched_per_s": round(batched / batched_seconds, 1),
        "bare_copy_per_s": round(count / copy_seconds, 1),
        "bare_insert_per_s": round(count / insert_seconds, 1),
        "ratio_copy_to_service": round((count / copy_seconds) / service_rate, 1),
        "ratio_insert_to_service": round((count / insert_seconds) / service_rate, 1),
        "queries_per_movement": round(queries_per_movement, 2),
        "us_per_movement": round(per, 1),
        "verify_ok": report.ok,
        "ok": report.ok,
    }
    print(json.dumps(figures))


def code_version() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import code_version as version

    return version()


if __name__ == "__main__":
    main()
