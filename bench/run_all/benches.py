"""The benches run_all runs, with their sizes (full and quick) and their databases."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from _common import BENCH_DIR

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
