"""The bench's defaults and the registration kinds it counts."""

from __future__ import annotations

from decimal import Decimal

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_reg"
D = Decimal
OPERATIONS = (10, 20, 30)
# Kinds processed into a route-card line (job feedback) and into a job activity (starts).
FEEDBACK_KINDS = ("stop_job", "report_progress", "report_scrap")
START_KINDS = ("start_job", "bundle")
