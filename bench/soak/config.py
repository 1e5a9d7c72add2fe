"""The soak's sizes, names and fault schedule, and its log line."""

from __future__ import annotations

import time

from _common import ROOT

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_soak"
DEFAULT_SECONDS = 600
CI_SECONDS = 75
SECRET = "soak-erp-secret"
PASSWORD = "demo-mes-2026"  # seed_demo's users (settings.MES_DEMO_PASSWORD)
WO_PREFIX = "SWO-"
RESOURCES = 10
WORKERS = 50
PRODUCTS = 5  # product k runs operation 10 on resource 2k-1, operation 20 on resource 2k
SCRAP_REASONS = ("SCR-DMG", "SCR-DIM", "SCR-WELD")
BIN = ROOT / ".venv" / "bin"
# Fault schedule, as fractions of the load phase.
AT_KILL_WORKER, AT_REDIS, AT_ERP_DOWN, AT_REJECT, AT_GUNICORN = 0.12, 0.25, 0.35, 0.62, 0.78


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)
