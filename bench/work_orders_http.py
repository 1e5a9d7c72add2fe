"""POST /api/v1/work-orders/ through gunicorn, against a bare authenticated insert in the same
gunicorn, side by side.

    .venv/bin/python bench/work_orders_http.py [--requests 2000] [--concurrency 8]
        [--workers 2] [--rounds 2] [--conn-max-age 0]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_api]
        [--redis-url redis://127.0.0.1:6379/7]

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it, seeds the demo plant (manage.py seed_demo: parts, approved BOMs and routings)
and the roles (setup_roles), and makes an erp-integration user with a DRF token. Untimed,
in-process (Django test client, CaptureQueriesContext): the SQL statements one request of
each kind runs.

Then it starts ``gunicorn mesproject.wsgi --workers N`` on a free port with the bench
settings (bench/bench_settings.py: the product's settings, ROOT_URLCONF = bench_urls, which
adds the bare-insert endpoints; see bench/bench_urls.py) and drives, with C threads
(http.client, keep-alive when the server keeps the connection; gunicorn's sync workers close
it after each answer), each of:

- ``bare insert``: POST /bench/insert/ (token auth, HasPerms, one INSERT; no idempotency);
- ``bare insert + key``: POST /api/v1/bench/insert/ with an Idempotency-Key (the same view
  through the idempotency middleware, as every API write);
- ``work-order create``: POST /api/v1/work-orders/ with an Idempotency-Key; 10 % of the
  requests replay the key (and body) of an earlier create that was already answered, and
  must get the stored 201 back with ``Idempotent-Replayed: true``.

--requests of each, split into --rounds rounds; the order of the three alternates between
rounds (ABC, CBA, ...) so that drift in the machine's load is shared. Reported: req/s, p50
and p99 latency (client side, connection included), status counts, replays answered as
replays, and the ratios. Checked: the database holds exactly one order per distinct key that
was answered 201, and one row per bare insert.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    BENCH_DIR,
    ROOT,
    code_version,
    database_name,
    forget_nudges,
    free_port,
    machine,
    percentile,
    postgres_version,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_api"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
CREATE = "/api/v1/work-orders/"
BARE = "/bench/insert/"
BARE_KEYED = "/api/v1/bench/insert/"
PART, REVISION = "BIKE-100", "A"  # the demo plant's city bike: approved BOM and routing
REPLAY_SHARE = 0.10
WO_PREFIX = "BWO-"


def create_body(wo_id: str) -> bytes:
    return json.dumps(
        {
            "wo_id": wo_id,
            "part_number": PART,
            "revision": REVISION,
            "qty_target": "5",
            "scheduled_start": "2026-12-01T06:00:00Z",
            "priority": 3,
        }
    ).encode()


# --- Setup -------------------------------------------------------------------------------


def setup_database() -> str:
    """Migrate, seed, make the ERP user; returns its token."""
    import io

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from mesproject.roles import ERP_INTEGRATION

    call_command("migrate", verbosity=0)
    call_command("setup_roles", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    user = get_user_model().objects.create_user("erp-bench")
    user.groups.add(Group.objects.get(name=ERP_INTEGRATION))
    return Token.objects.create(user=user).key


def statements_per_request(token: str, samples: int = 5) -> dict[str, float]:
    """In-process, through the whole middleware stack: SQL statements per request of each
    kind (the Django test client; the same settings and URLconf as the gunicorn workers)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    counts: dict[str, list[int]] = {
        "bare insert": [],
        "bare insert + key": [],
        "create (new)": [],
        "create (replay)": [],
    }

    def post(path: str, body: bytes, key: str | None, expect: int, label: str) -> None:
        headers = {"Idempotency-Key": key} if key else {}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, body, content_type="application/json", headers=headers)
        if response.status_code != expect:
            sys.exit(f"{label}: {response.status_code} {response.content[:300]!r}")
        counts[label].append(len(queries))

    for n in range(samples):
        post(BARE, b'{"title": "q"}', None, 201, "bare insert")
        post(BARE_KEYED, b'{"title": "q"}', str(uuid.uuid4()), 201, "bare insert + key")
        key, body = str(uuid.uuid4()), create_body(f"QPR-{n}")
        post(CREATE, body, key, 201, "create (new)")
        post(CREATE, body, key, 201, "create (replay)")
    return {label: sum(values) / len(values) for label, values in counts.items()}


# --- gunicorn ----------------------------------------------------------------------------


def start_gunicorn(workers: int, port: int, env: dict, log_path: Path) -> subprocess.Popen:
    executable = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(executable if executable.exists() else shutil.which("gunicorn")),
        "mesproject.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        "--pythonpath",
        str(BENCH_DIR),
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit(f"gunicorn did not answer /healthz:\n{log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Load --------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # "bare", "keyed", "create", "replay"
    status: int
    replayed: bool
    seconds: float


@dataclass
class Run:
    label: str
    requests: int = 0
    seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    def latencies(self, kind: str | None = None) -> list[float]:
        return [o.seconds for o in self.outcomes if kind is None or o.kind == kind]


class Creates:
    """The keys and bodies of creates already answered 201, for replays (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answered: list[tuple[str, bytes]] = []
        self.counter = 0

    def next_wo_id(self) -> str:
        with self.lock:
            self.counter += 1
            return f"{WO_PREFIX}{self.counter:07d}"


def drive(
    port: int, token: str, kind: str, n: int, concurrency: int, creates: Creates, seed: int
) -> Run:
    """n requests of one endpoint with `concurrency` threads; wall time from first to last."""
    plan = ["create"] * n if kind == "create" else [kind] * n
    if kind == "create":
        rng = random.Random(seed)
        # Replays start once a few creates can have been answered.
        for index in rng.sample(range(min(2 * concurrency, n), n), int(n * REPLAY_SHARE)):
            plan[index] = "replay"
    position = iter(range(n))
    lock = threading.Lock()
    run = Run(kind, requests=n)
    auth = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def worker(thread_seed: int) -> None:
        rng = random.Random(thread_seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        outcomes = []
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            what = plan[index]
            headers = dict(auth)
            if what == "bare":
                path, body = BARE, b'{"title": "bench"}'
            elif what == "keyed":
                path, body = BARE_KEYED, b'{"title": "bench"}'
                headers["Idempotency-Key"] = str(uuid.uuid4())
            elif what == "replay" and creates.answered:
                with creates.lock:
                    key, body = rng.choice(creates.answered)
                path = CREATE
                headers["Idempotency-Key"] = key
            else:
                what = "create"
                key, body = str(uuid.uuid4()), create_body(creates.next_wo_id())
                path = CREATE
                headers["Idempotency-Key"] = key
            started = time.perf_counter()
            for attempt in range(2):
                try:
                    conn.request("POST", path, body, headers)
                    response = conn.getresponse()
                    response.read()
                    break
                except (http.client.HTTPException, ConnectionError):
                    conn.close()  # the server closed a kept connection: once more, new one
                    if attempt:
                        raise
            elapsed = time.perf_counter() - started
            if response.will_close:
                conn.close()
            replayed = response.getheader("Idempotent-Replayed") == "true"
            if what == "create" and response.status == 201 and not replayed:
                with creates.lock:
                    creates.answered.append((key, body))
            outcomes.append(Outcome(what, response.status, replayed, elapsed))
        conn.close()
        with lock:
            run.outcomes.extend(outcomes)

    threads = [threading.Thread(target=worker, args=(seed * 100 + i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def merge(runs: list[Run]) -> Run:
    total = Run(runs[0].label)
    for run in runs:
        total.requests += run.requests
        total.seconds += run.seconds
        total.outcomes.extend(run.outcomes)
    return total


# --- Main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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


if __name__ == "__main__":
    main()
