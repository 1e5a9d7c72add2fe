"""The pages measured, how one GET is counted, the command line and the run."""

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

from .floor import (
    attendance,
    live_floor,
    live_floor_fragment,
    processing_log,
    terminal_choice,
    terminal_jobs,
)
from .office import change_requests, idempotency_keys, notifications, outbox, reconciliation_runs
from .planner import dashboard, order_page, plan, planner_export, planner_orders
from .users import Page, sign_in

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_pages"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"


def pages() -> list[Page]:
    from mesproject.roles import IT, OPERATOR, PLANNER, SUPERVISOR

    return [
        Page("dashboard", SUPERVISOR, dashboard),
        Page("planner: production orders", PLANNER, planner_orders),
        Page("planner: orders CSV export", PLANNER, planner_export, stream=True),
        Page("planner: order page (each list)", PLANNER, order_page),
        Page("supervisor: operational plan", SUPERVISOR, plan),
        Page("supervisor: live floor", SUPERVISOR, live_floor),
        Page("supervisor: live floor fragment", SUPERVISOR, live_floor_fragment),
        Page("supervisor: processing log", SUPERVISOR, processing_log),
        Page("supervisor: time and attendance", SUPERVISOR, attendance),
        Page("supervisor: change requests", SUPERVISOR, change_requests),
        Page("notifications", SUPERVISOR, notifications),
        Page("terminal: choice of terminal", OPERATOR, terminal_choice),
        Page("terminal: my jobs", OPERATOR, terminal_jobs),
        Page("IT: outbox", IT, outbox),
        Page("IT: idempotency keys", IT, idempotency_keys),
        Page("IT: reconciliation runs", IT, reconciliation_runs),
    ]


def count_get(client, url: str, stream: bool) -> tuple[int, float, int | None, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if stream:
            b"".join(response.streaming_content)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    page = (response.context or {}).get("page") if not stream else None
    shown = len(page.object_list) if page is not None and hasattr(page, "object_list") else None
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
    top = {"ms": round(float(slowest["time"]) * 1000, 1), "sql": slowest["sql"]} if slowest else {}
    return len(queries), seconds, shown, top


def measure(page: Page, small: int, large: int) -> dict:
    """The page's counts at small and large rows; everything it wrote is rolled back."""
    from django.db import connection, transaction
    from django.test import Client

    with transaction.atomic():
        client = Client()
        client.bench_user = sign_in(client, page.role)
        url, add = page.setup(client)
        add(small)
        at_small, small_seconds, shown_small, _top = count_get(client, url, page.stream)
        started = time.perf_counter()
        add(large - small)
        add_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:  # statistics of the rows just added, as in use
            cursor.execute("ANALYZE")
        at_large, large_seconds, shown_large, top = count_get(client, url, page.stream)
        transaction.set_rollback(True)
    return {
        "url": url,
        "small": at_small,
        "large": at_large,
        "ratio": round(at_large / at_small, 3),
        "ms_small": round(small_seconds * 1000, 1),
        "ms_large": round(large_seconds * 1000, 1),
        "seed_seconds": round(add_seconds, 2),
        "rows_shown": [shown_small, shown_large],
        "slowest_query_ms_large": top.get("ms"),
        "slowest_query_large": top.get("sql", "")[:2000],
    }


def main() -> None:
    # The first paragraph of the package's docstring says what the bench does.
    description = sys.modules[__package__].__doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--only", default="", help="pages whose name contains this")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL (the bench runs on PostgreSQL)")
    database_name(url)
    var_dir = tempfile.mkdtemp(prefix="mes_bench_pages_")
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="mesproject.settings.base",
        MES_VAR_DIR=var_dir,
        MES_PROCESSOR_NUDGE="0",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
    )
    try:
        run(args, url)
    finally:
        forget_nudges(args.redis_url)
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, url: str) -> None:
    import warnings

    # The bench serves no static files: the missing collectstatic folder is not news.
    warnings.filterwarnings("ignore", message="No directory at")
    t0 = time.perf_counter()
    recreate_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, stdout=io.StringIO())
    call_command("setup_roles", stdout=io.StringIO())
    # As the test runner does: the test client then records each response's context.
    from django.test.utils import setup_test_environment

    setup_test_environment()
    setup_seconds = time.perf_counter() - t0

    results: dict[str, dict] = {}
    failures: dict[str, str] = {}
    for page in pages():
        if args.only and args.only.lower() not in page.name.lower():
            continue
        try:
            results[page.name] = measure(page, args.small, args.large)
        except Exception as error:  # one page failing must not hide the others
            failures[page.name] = f"{type(error).__name__}: {error}"

    print(
        f"{postgres_version()}; {machine()}; Django test client, whole middleware stack; "
        f"each page in its own rolled-back transaction; code {code_version()}"
    )
    print(f"setup (migrate, roles; not timed): {setup_seconds:.1f} s")
    print()
    small, large = args.small, args.large
    print(
        f"{'page':<36} {f'at {small:,}':>8} {f'at {large:,}':>9} {'ratio':>6} "
        f"{'ms':>7} {'ms':>7} {'shown':>9}  url"
    )
    for name, r in results.items():
        mark = "" if r["small"] == r["large"] else "  <-- grows with the rows"
        shown = "/".join("-" if n is None else str(n) for n in r["rows_shown"])
        print(
            f"{name:<36} {r['small']:>8} {r['large']:>9} {r['ratio']:>6.2f} "
            f"{r['ms_small']:>7.0f} {r['ms_large']:>7.0f} {shown:>9}  {r['url']}{mark}"
        )
    for name, error in failures.items():
        print(f"{name:<36} FAILED: {error}")
    slow = {n: r for n, r in results.items() if r["ms_large"] > 1000}
    if slow:
        print()
        print(f"pages taking over a second at {large:,} rows (queries stay constant; the time):")
        for name, r in slow.items():
            sql = " ".join(r["slowest_query_large"].split())
            print(
                f"    {name}: {r['ms_large']:,.0f} ms, of which its slowest query "
                f"{r['slowest_query_ms_large']:,.0f} ms: {sql[:300]}"
            )
    growing = [name for name, r in results.items() if r["small"] != r["large"]]
    print()
    print(
        f"checks: {'OK' if not growing and not failures else 'PROBLEMS'} "
        f"({len(results)} pages counted, {len(growing)} grow with the rows, "
        f"{len(failures)} failed)"
    )
    figures = {
        "bench": "list_pages",
        "code": code_version(),
        "small": small,
        "large": large,
        "pages": results,
        "failed": failures,
        "ok": not growing and not failures,
    }
    print(json.dumps(figures))
    if failures:
        sys.exit(1)
