"""The SQL queries one GET of each list page runs, at --small and at --large rows listed.

    .venv/bin/python bench/list_pages.py [--small 10] [--large 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_pages]
        [--redis-url redis://127.0.0.1:6379/7]
    quick: .venv/bin/python bench/list_pages.py --large 500

The approach of tests/pages/ (assert_constant_queries), at the bench's sizes and on
PostgreSQL: drops and recreates the database named in --database-url (it must start with
"mes_bench"), migrates it and sets up the roles; then, for each page, in a transaction that
is rolled back afterwards (every page starts from the same empty database, as a test does):
the plant the page's query-count test builds (tests.execution.floor.make_floor,
tests.factories), a signed-in user of the role that works there (Django test client), then
add_rows(--small) (the rows the page lists, bulk-inserted the way its test adds them: how a
row was made does not change what reading it costs), one GET counted with
CaptureQueriesContext (the whole middleware stack: session, user, permissions, header),
add_rows(--large - --small), ANALYZE (the planner's statistics of what is there, as in use),
the same GET counted again. A streamed answer (the CSV export)
is read to its end inside the count.

The ratio is count at --large / count at --small: 1.0 for every page, or the page runs a
query per row somewhere. Prints a JSON line with the counts last.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    code_version,
    database_name,
    forget_nudges,
    machine,
    postgres_version,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_pages"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
D = Decimal
DAY = date(2026, 3, 2)  # tests.execution.floor's DAY
PIN = "4711"
_seq = itertools.count(1)

AddRows = Callable[[int], None]


@dataclass
class Page:
    name: str
    role: str
    setup: Callable  # (client) -> (url, add_rows)
    stream: bool = False


# --- Users ---------------------------------------------------------------------------------


def sign_in(client, role: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(f"{role}-{next(_seq)}", password="x")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return user


def light_floor(workers: int = 3):
    """tests/pages/test_supervisor.light_floor: one manual BOM line, no stock."""
    from tests.execution.floor import make_floor

    return make_floor(workers=workers, lines=[("BELL", "manual", 30, "1")], stock=0)


# --- The pages and their rows (as in tests/pages/) ---------------------------------------------


def planner_orders(client):
    """tests/pages/test_planner.py: the list with a filter, a search and a sort."""
    from django.urls import reverse

    url = reverse("planner:order_list")
    product, add = _bulk_orders()
    resource = product.route.operations.first().resource
    return f"{url}?sort=-status&q=PO-V&resource={resource.pk}", add


def planner_export(client):
    from django.urls import reverse

    _product, add = _bulk_orders()
    return f"{reverse('planner:order_export')}?sort=number", add


def _bulk_orders():
    from django.utils import timezone

    from orders.choices import OrderStatus
    from orders.models import ProductionOrder
    from tests.factories import make_releasable_product

    product = make_releasable_product()
    statuses = itertools.cycle(OrderStatus.values)

    def add(n):
        ProductionOrder.objects.bulk_create(
            (
                ProductionOrder(
                    number=f"PO-V{next(_seq):06d}",
                    item=product.item,
                    revision=product.item.revision,
                    quantity=D(next(_seq) % 90 + 1),
                    unit=product.item.unit,
                    site=product.site,
                    status=next(statuses),
                    scheduled_start=timezone.now() + timedelta(hours=next(_seq) % 50),
                )
                for _ in range(n)
            ),
            batch_size=2000,
        )

    return product, add


def order_page(client):
    """n more rows in each of the page's lists (tests/pages/test_planner.py's own helper)."""
    from django.urls import reverse

    from tests.execution.floor import make_floor
    from tests.pages.test_planner import _detail_volume

    floor = make_floor()
    order = floor.order(10)
    return reverse("planner:order_detail", args=[order.pk]), _detail_volume(order, floor)


def dashboard(client):
    """Orders in every state, each with a job, a route card line and a report-as-finished line
    on the day shown (tests/pages/test_dashboard.py's own helper)."""
    from django.urls import reverse

    from tests.execution.floor import make_floor
    from tests.pages.test_dashboard import _volume

    floor = make_floor(stock=0)
    return f"{reverse('dashboard:index')}?date={DAY.isoformat()}", _volume(floor)


def plan(client):
    from django.urls import reverse

    from execution.choices import JobKind
    from execution.models import Job

    floor = light_floor(workers=1)
    order = floor.order(1)
    resource = floor.resources[0]
    numbers = itertools.count(1000)

    def add(n):
        Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=next(numbers),
                operation_name="Extra",
                kind=JobKind.PROCESS,
                resource=resource,
                sequence=1000 + i,
                planned_minutes=D(5),
            )
            for i in range(n)
        )

    return f"{reverse('supervisor:plan')}?resource={resource.pk}", add


def _floor_rows():
    """Per row two workers clocked in, one on a started job (tests/pages/test_supervisor.py's
    own helper)."""
    from tests.pages.test_supervisor import floor_volume

    return floor_volume()


def live_floor(client):
    from django.urls import reverse

    return reverse("supervisor:floor"), _floor_rows()


def live_floor_fragment(client):
    from django.urls import reverse

    return reverse("supervisor:floor_fragment"), _floor_rows()


def attendance(client):
    from django.urls import reverse

    from execution.models import AttendanceDay

    worker = light_floor(workers=1).workers[0]
    dates = (DAY - timedelta(days=i) for i in range(100_000))

    def add(n):
        AttendanceDay.objects.bulk_create(
            AttendanceDay(worker=worker, date=next(dates), worked_minutes=D(450)) for _ in range(n)
        )

    return reverse("supervisor:attendance"), add


def change_requests(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.choices import ChangeRequestStatus
    from integration.models import ChangeRequest
    from orders.choices import OrderStatus
    from tests.factories import advance_order, make_order

    order = advance_order(make_order(quantity=10), OrderStatus.IN_PROGRESS)
    now = timezone.now()

    def add(n):
        ChangeRequest.objects.bulk_create(
            ChangeRequest(
                order=order,
                changes={"qty_target": "12", "scheduled_start": "2026-04-01T06:00:00+00:00"},
                requested_by="erp",
                requested_at=now,
                status=ChangeRequestStatus.PENDING if i % 2 else ChangeRequestStatus.REJECTED,
            )
            for i in range(n)
        )

    return reverse("inbox:change_requests"), add


def processing_log(client):
    """tests/execution/test_processing_log.py: registrations with a worker, an order and a
    job (clock-ins, starts and stops), in every status."""
    from django.urls import reverse
    from django.utils import timezone

    from execution.choices import RegistrationKind, RegistrationStatus
    from execution.models import RawRegistration

    floor = light_floor(workers=2)
    orders = [floor.order(5) for _ in range(3)]
    jobs = [floor.job(order, 10) for order in orders]
    kinds = itertools.cycle(
        [RegistrationKind.START_JOB, RegistrationKind.STOP_JOB, RegistrationKind.CLOCK_IN]
    )
    statuses = itertools.cycle(RegistrationStatus.values)
    at = timezone.now() - timedelta(days=1)

    def add(n):
        rows = []
        for _ in range(n):
            i = next(_seq)
            kind = next(kinds)
            job = jobs[i % 3]
            worker = floor.workers[i % 2]
            on_job = kind != RegistrationKind.CLOCK_IN
            rows.append(
                RawRegistration(
                    uuid=uuid.uuid4(),
                    kind=kind,
                    status=next(statuses),
                    lane=f"order:{job.order_id}" if on_job else f"worker:{worker.pk}",
                    occurred_at=at + timedelta(seconds=i),
                    worker=worker,
                    terminal=floor.terminals[0],
                    resource=floor.resources[0],
                    order_id=job.order_id if on_job else None,
                    job=job if on_job else None,
                )
            )
        RawRegistration.objects.bulk_create(rows, batch_size=2000)

    return reverse("floor:processing_log"), add


def notifications(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.choices import NotificationKind
    from integration.models import Notification
    from mesproject.roles import SUPERVISOR

    user = client.bench_user
    now = timezone.now()

    def add(n):
        rows = Notification.objects.bulk_create(
            Notification(
                kind=NotificationKind.RECONCILIATION,
                role=SUPERVISOR,
                title=f"Notice {next(_seq)}",
                text="Look at it.",
                created_at=now,
            )
            for _ in range(n)
        )
        # Every other one read by the user.
        Notification.read_by.through.objects.bulk_create(
            Notification.read_by.through(notification_id=row.pk, user_id=user.pk)
            for row in rows[::2]
        )

    return reverse("inbox:notifications"), add


def terminal_choice(client):
    """tests/pages/test_terminal.py: the device's list of terminals to be."""
    from django.urls import reverse

    from execution.models import Terminal
    from tests.execution.floor import make_floor

    resource = make_floor(stock=0).resources[0]
    made = itertools.count(1)

    def add(n):
        Terminal.objects.bulk_create(
            Terminal(code=f"V-{next(made):05d}", name="Volume", resource=resource) for _ in range(n)
        )

    return reverse("terminal:home") + "?change=1", add


def terminal_jobs(client):
    """tests/pages/test_terminal.py: a worker signed in at the terminal, clocked in, on a job;
    the screen lists the jobs of the resource."""
    from django.urls import reverse

    from execution.choices import JobKind
    from execution.models import Job
    from execution.services.terminal import worker_set_pin
    from tests.execution.floor import make_floor

    floor = make_floor(stock=0)
    for worker in floor.workers:
        worker_set_pin(worker=worker, pin=PIN)
    code = floor.terminals[0].code

    def url(name: str, *args) -> str:
        return reverse(f"terminal:{name}", args=[code, *args])

    def post(name: str, *args) -> None:
        body = {"registration_uuid": str(uuid.uuid4())}
        response = client.post(url(name, *args), body, follow=True)
        if response.status_code != 200:
            sys.exit(f"terminal {name}: {response.status_code}")

    worker = floor.workers[0]
    client.post(url("sign_in"), {"badge_id": worker.badge_id, "pin": PIN}, follow=True)
    post("clock_in")
    order = floor.order(10)
    post("job_start", floor.job(order, 10).pk)
    resource = floor.resources[0]
    made = itertools.count(1000)

    def add(n):
        Job.objects.bulk_create(
            Job(
                order=order,
                operation_number=next(made),
                operation_name="Volume",
                kind=JobKind.PROCESS,
                resource=resource,
                sequence=9000 + i,
                planned_quantity=D(1),
            )
            for i in range(n)
        )

    return url("terminal"), add


def outbox(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.choices import MessageKind, MessageStatus
    from integration.models import OutboxMessage

    made = [0]
    states = [MessageStatus.DEAD_LETTER, MessageStatus.PENDING, MessageStatus.DELIVERED]

    def add(count):
        now = timezone.now()
        rows = []
        for _ in range(count):
            made[0] += 1
            n = made[0]
            state = states[n % 3]
            rows.append(
                OutboxMessage(
                    stream=f"WO-Q{n // 3}",
                    sequence=n % 3 + 1,
                    kind=MessageKind.MATERIAL_ISSUE,
                    transaction_uuid=uuid.uuid4(),
                    payload={"wo_id": f"WO-Q{n // 3}", "qty_consumed": "1"},
                    status=state,
                    last_error="refused" if state == MessageStatus.DEAD_LETTER else "",
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        OutboxMessage.objects.bulk_create(rows, batch_size=2000)

    return reverse("it:outbox"), add


def idempotency_keys(client):
    """Completed keys of two callers (tests/pages/test_it.py's own helper)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from tests.pages.test_it import keys_volume

    callers = [get_user_model().objects.create_user(f"caller-{next(_seq)}") for _ in range(2)]
    return reverse("it:idempotency_keys"), keys_volume(callers)


def reconciliation_runs(client):
    from django.urls import reverse
    from django.utils import timezone

    from integration.models import ReconciliationRun
    from integration.reconciliation.services import erp_wip_snapshot_receive

    snapshot = erp_wip_snapshot_receive(as_of=timezone.now(), lines=[], user=None)

    def add(count):
        ReconciliationRun.objects.bulk_create(
            ReconciliationRun(
                snapshot=snapshot,
                trigger="beat",
                started_by="process:beat",
                started_at=timezone.now(),
                pairs_total=340,
                variances_flagged=3,
            )
            for _ in range(count)
        )

    return reverse("integration-pages:reconciliation-list"), add


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


# --- Counting --------------------------------------------------------------------------------


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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


if __name__ == "__main__":
    main()
