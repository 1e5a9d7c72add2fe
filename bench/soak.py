"""Soak: the whole stack under ERP, terminal and supervisor load, with faults on a schedule,
then the invariants that must hold once the system has drained.

    .venv/bin/python bench/soak.py [--seconds 600] [--ci]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_soak]
    make soak                      # 10 minutes
    SOAK_SECONDS=90 make soak      # or SOAK_ARGS=--ci: 75 s, the same faults compressed

The stack, every process in its own process group, all on loopback and free ports:
PostgreSQL database --database-url (its name must start with mes_bench; dropped, created,
migrated, seeded: setup_roles, seed_demo, plus a soak plant of 10 resources with 50 workers,
5 products of two operations each and their stock), a private redis-server (broker and
cache), the ERP simulator (integration/erp_simulator.py, the outbox's endpoint), gunicorn
(mesproject.wsgi), two Celery workers and one beat. MES_OUTBOX_RETRY_SECONDS is short, so
dead-lettered messages are retried within the run.

Load (bounded in count and time), over HTTP only:

- the ERP creates work orders (POST /api/v1/work-orders/), updates some while Created,
  cancels a few, PATCHes some after release, closes (short_close) what the floor finished;
  ~10 % of its writes are replayed later with the same Idempotency-Key and body and must get
  the first answer back (Idempotent-Replayed: true);
- the planner signs in (session) and releases each order on its page (the transition POST);
- 50 workers on 10 resources post registrations from their resource's terminal: clock in,
  start a job, progress with good and scrap, complete it, report as finished after the last
  operation, a break now and then, clock out at the end; each worker in a valid sequence
  (a refusal is a failure). The job ids a terminal shows are read from the database;
- two supervisors sign in and read pages and the registrations list;
- an adversarial terminal (bench/soak_adversary.py) posts over-reports, backdated,
  duplicated, foreign-site and malformed registrations, each certain to be refused, and
  counts the answers by status and code.

Faults, at fractions of the run: SIGKILL of a Celery worker (a replacement is started),
a restart of the private Redis, the ERP simulator down (120 s in a 10-minute run, scaled
down), the simulator rejecting one message (/control/mode reject, count 1), a gunicorn
restart. Then the load stops, the workers clock out, and the system drains (bounded wait).

Checked, exit status 1 when any fails: every registration processed exactly once (none new
or failed, one processing-log entry each); every outbox message delivered, exactly once
and in sequence per work order in the simulator's record; the dead-letter queue empty, or
holding only the rejected message and those held behind it; manage.py verify_inventory;
each soak order's quantities equal to the sum of its journals and to what the terminals
reported; replays answered as replays; no HTTP 5xx outside the gunicorn restart window;
no terminal registration refused; p99 latency of terminal posts under --max-p99-ms; the
adversary got no 5xx, every impossible post of it was refused and none stored; every job and
order within the shop-floor limits (good + scrap <= started, started <= the previous
operation's good output, completed <= quantity x (1 + tolerance)).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    ROOT,
    code_version,
    database_name,
    free_port,
    percentile,
    recreate_database,
)
from soak_adversary import Adversary, adversary_checks, flow_checks, seed_adversary  # noqa: E402

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


# --- Processes ---------------------------------------------------------------------------


class Processes:
    """Every child in its own process group; stop_all ends them all (also on Ctrl-C)."""

    def __init__(self, log_dir: Path, env: dict) -> None:
        self.log_dir = log_dir
        self.env = env
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        with (self.log_dir / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self.lock:
            self.started.append((name, process))
        return process

    @staticmethod
    def signal_group(process: subprocess.Popen, sig: int) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)

    def stop(self, process: subprocess.Popen, timeout: float = 20) -> None:
        self.signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        with self.lock:
            alive = [p for _, p in self.started if p.poll() is None]
        for process in alive:
            self.signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in alive:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.signal_group(process, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)


def wait_http(port: int, path: str, process: subprocess.Popen, what: str, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {path} within {timeout} s")


class Stack:
    def __init__(self, procs: Processes, var_dir: Path) -> None:
        self.procs = procs
        self.var_dir = var_dir
        self.redis_port = free_port()
        self.erp_port = free_port()
        self.web_port = free_port()
        self.erp_db = var_dir / "erp-simulator.sqlite3"
        self.redis: subprocess.Popen | None = None
        self.erp: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.worker_names: dict[str, subprocess.Popen] = {}
        self.worker_count = 0
        self.web_count = 0

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_redis(self) -> None:
        import redis

        self.redis = self.procs.start(
            "redis",
            [
                *("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
        )
        client = redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def start_erp(self) -> None:
        self.erp = self.procs.start(
            "erp-simulator",
            [
                *(sys.executable, "-m", "integration.erp_simulator"),
                *("--port", str(self.erp_port), "--secret", SECRET),
                *("--db", str(self.erp_db), "--quiet"),
            ],
        )
        wait_http(self.erp_port, "/healthz", self.erp, "the ERP simulator")

    def start_web(self) -> None:
        self.web_count += 1
        self.web = self.procs.start(
            f"gunicorn-{self.web_count}",
            [
                str(BIN / "gunicorn"),
                "mesproject.wsgi",
                *("--workers", "3", "--bind", f"127.0.0.1:{self.web_port}"),
                *("--chdir", str(ROOT), "--timeout", "60", "--graceful-timeout", "20"),
                *("--log-level", "warning"),
            ],
        )
        wait_http(self.web_port, "/healthz", self.web, "gunicorn")

    def start_worker(self) -> subprocess.Popen:
        self.worker_count += 1
        worker = self.procs.start(
            f"celery-worker-{self.worker_count}",
            [
                *(str(BIN / "celery"), "-A", "mesproject", "worker", "--pool=solo"),
                *("-n", f"soak{self.worker_count}@%h", "--loglevel=INFO"),
            ],
        )
        self.workers.append(worker)
        self.worker_names[f"celery-worker-{self.worker_count}"] = worker
        return worker

    def start_beat(self) -> None:
        self.beat = self.procs.start(
            "celery-beat",
            [
                *(str(BIN / "celery"), "-A", "mesproject", "beat", "--loglevel=WARNING"),
                *("--schedule", str(self.var_dir / "celerybeat-schedule")),
                *("--pidfile", str(self.var_dir / "celerybeat.pid")),
            ],
        )

    def erp_control(self, path: str, body: dict | None = None) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.erp_port, timeout=30)
        try:
            if body is None:
                conn.request("GET", path)
            else:
                conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()


# --- HTTP clients ------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Sample:
    who: str  # terminal, erp, planner, supervisor
    what: str
    status: int  # 0: no answer (connection refused / reset)
    seconds: float
    at: float  # monotonic


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.notes: list[str] = []  # unexpected answers, for the report
        self.counts: Counter = Counter()

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n


class Client:
    """One keep-alive connection; cookies and CSRF for session logins; every answered
    attempt is recorded. `call` retries refused connections (the gunicorn restart) with the
    same request (same key, same registration_uuid), as a terminal or the ERP would."""

    def __init__(self, port: int, who: str, record: Record, token: str | None = None) -> None:
        self.port = port
        self.who = who
        self.record = record
        self.token = token
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def once(self, method: str, path: str, body: bytes | None, headers: dict) -> Answer:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = dict(headers)
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - started
        if response.will_close:
            self.close()
        for raw in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return Answer(response.status, response.msg, data, seconds)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        what: str = "",
        patience: float = 90.0,
    ) -> Answer | None:
        deadline = time.monotonic() + patience
        kept_connection_retry = True
        while True:
            at = time.monotonic()
            try:
                answer = self.once(method, path, body, headers or {})
            except (OSError, http.client.HTTPException):
                if kept_connection_retry:  # the server may have closed a kept connection
                    kept_connection_retry = False
                    continue
                self.record.add(Sample(self.who, what or path, 0, 0.0, at))
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.5)
                continue
            self.record.add(Sample(self.who, what or path, answer.status, answer.seconds, at))
            if answer.status >= 500 and time.monotonic() < deadline:
                time.sleep(0.5)  # counted; retried like a refused connection
                continue
            return answer

    def post_json(self, path: str, payload: dict, key: str | None = None, what: str = ""):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        return self.call("POST", path, json.dumps(payload).encode(), headers, what)

    def login(self, username: str) -> bool:
        page = self.call("GET", "/accounts/login/", what="login page")
        if page is None or page.status != 200:
            return False
        token = self.cookies.get("csrftoken", "")
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/",
            }
        ).encode()
        answer = self.call(
            "POST",
            "/accounts/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
            what="login",
        )
        return answer is not None and answer.status == 302 and "sessionid" in self.cookies

    def post_form(self, path: str, fields: dict, what: str) -> Answer | None:
        fields = {**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        return self.call(
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
            },
            what=what,
        )


# --- The plant as the load drivers see it --------------------------------------------------


@dataclass
class Ticket:
    wo_id: str
    operation: int
    job_id: int
    quantity: int


@dataclass
class SoakOrder:
    wo_id: str
    product: int
    quantity: int
    state: str = "created"  # created, canceled, releasing, released, finished, closed
    jobs: dict[int, int] = field(default_factory=dict)  # operation -> job id
    started: Counter = field(default_factory=Counter)  # operation -> quantity started
    good: Counter = field(default_factory=Counter)  # operation -> good reported
    scrap: Counter = field(default_factory=Counter)
    finished_good: int = 0  # reported as finished
    broken: bool = False  # a refusal left it in an unknown state


class Plant:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: dict[str, SoakOrder] = {}
        self.queues: dict[int, deque[Ticket]] = {r: deque() for r in range(1, RESOURCES + 1)}
        self.to_release: deque[str] = deque()
        self.to_close: deque[tuple[float, str]] = deque()
        self.ready = threading.Condition(self.lock)

    def open_orders(self, product: int) -> int:
        with self.lock:
            return sum(
                1
                for o in self.orders.values()
                if o.product == product and o.state in ("created", "releasing", "released")
            )

    def push(self, resource: int, ticket: Ticket) -> None:
        with self.ready:
            self.queues[resource].append(ticket)
            self.ready.notify_all()

    def take(self, resource: int, timeout: float) -> Ticket | None:
        with self.ready:
            if not self.queues[resource]:
                self.ready.wait(timeout)
            return self.queues[resource].popleft() if self.queues[resource] else None


def resources_of(product: int) -> tuple[int, int]:
    return 2 * product - 1, 2 * product


# --- Seeding (in this process) ------------------------------------------------------------


def seed() -> dict:
    """Roles, the demo plant (users, reason codes, units, site), and the soak plant."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from execution.models import PayAgreement, Terminal, Worker
    from integration.models import DefectReasonMapping
    from inventory import services as inventory_services
    from inventory.choices import FlushingPrinciple as FP
    from inventory.choices import ItemType, LocationKind, SourceType, Tracking
    from inventory.models import Item, Location, Site, UnitOfMeasure, Warehouse
    from inventory.services import Source
    from mesproject.actors import Actor
    from orders.choices import BomLinePrinciple as BP
    from orders.choices import ConsumptionSetting, ReasonKind
    from orders.models import Bom, BomLine, ReasonCode, Resource, Route, RouteOperation

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    migrated = time.monotonic()
    call_command("setup_roles", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    log(f"migrate {migrated - started:.0f} s, seed_demo {time.monotonic() - migrated:.0f} s")
    site = Site.objects.get(code="BRN")
    raw = Warehouse.objects.get(site=site, code="RAW")
    fg = Warehouse.objects.get(site=site, code="FG")
    pcs = UnitOfMeasure.objects.get(code="pcs")
    resources = {}
    for n in range(1, RESOURCES + 1):
        code = f"SK-{n:02d}"
        resource = Resource.objects.create(
            code=code,
            name=f"Soak cell {n}",
            site=site,
            # Every fourth cell consumes its operation-finish lines at report as finished.
            consumption_setting=ConsumptionSetting.ON_REPORT_AS_FINISHED
            if n % 4 == 0
            else ConsumptionSetting.ON_OPERATION_FEEDBACK,
            input_location=Location.objects.create(
                warehouse=raw,
                code=f"IN-SK{n:02d}",
                name=f"Input {code}",
                kind=LocationKind.PRODUCTION_INPUT,
            ),
            output_location=Location.objects.create(
                warehouse=fg,
                code=f"OUT-SK{n:02d}",
                name=f"Output {code}",
                kind=LocationKind.PRODUCTION_OUTPUT,
            ),
        )
        Terminal.objects.create(code=f"T-{code}", name=f"Terminal {code}", resource=resource)
        resources[n] = resource
    components = {
        part: Item.objects.create(
            part_number=part,
            revision="A",
            description=part,
            item_type=kind,
            unit=pcs,
            default_flushing_principle=principle,
            tracking=tracking,
        )
        for part, kind, principle, tracking in [
            ("SK-TUBE", ItemType.RAW, FP.START, Tracking.LOT),
            ("SK-PART-A", ItemType.RAW, FP.OPERATION_FINISH, Tracking.NONE),
            ("SK-PART-B", ItemType.RAW, FP.OPERATION_FINISH, Tracking.NONE),
            ("SK-BOX", ItemType.PACKAGING, FP.PRODUCTION_FINISH, Tracking.NONE),
        ]
    }
    for k in range(1, PRODUCTS + 1):
        product = Item.objects.create(
            part_number=f"SK-P{k}",
            revision="A",
            description=f"Soak product {k}",
            item_type=ItemType.FINISHED,
            unit=pcs,
            default_flushing_principle=FP.MANUAL,
            tracking=Tracking.NONE,
        )
        bom = Bom.objects.create(item=product, revision="A", approved=True)
        for number, part, per, principle, operation in [
            (10, "SK-TUBE", 2, BP.START, 10),
            (20, "SK-PART-A", 1, BP.OPERATION_FINISH, 10),
            (30, "SK-PART-B", 3, BP.OPERATION_FINISH, 20),
            (40, "SK-BOX", 1, BP.PRODUCTION_FINISH, None),
        ]:
            BomLine.objects.create(
                bom=bom,
                line_number=number,
                component=components[part],
                quantity_per=Decimal(per),
                flushing_principle=principle,
                operation_number=operation,
            )
        route = Route.objects.create(item=product, revision="A", approved=True)
        for operation, resource in zip((10, 20), resources_of(k), strict=True):
            RouteOperation.objects.create(
                route=route,
                operation_number=operation,
                name=f"Operation {operation}",
                resource=resources[resource],
                setup_time_minutes=0,
                run_time_minutes_per_unit=Decimal("1"),
            )
    source = Source(SourceType.MANUAL, "soak-opening-stock")
    for n, resource in resources.items():
        for part, item in components.items():
            inventory_services.inventory_receive(
                item=item,
                quantity=Decimal(200_000),
                location=resource.input_location,
                lot=f"{part}-L{n:02d}" if item.tracking == Tracking.LOT else None,
                source=source,
                actor=Actor(process="soak"),
                reason="soak opening stock",
            )
    agreement = PayAgreement.objects.get(code="DAY")
    for n in range(WORKERS):
        Worker.objects.create(
            badge_id=str(5001 + n),
            name=f"Soak worker {n + 1}",
            site=site,
            pay_agreement=agreement,
        )
    adversary_tokens = seed_adversary(site=site, agreement=agreement)
    for reason in ReasonCode.objects.filter(kind=ReasonKind.SCRAP):
        DefectReasonMapping.objects.get_or_create(
            defect=reason, defaults={"erp_reason_code": f"ERP-{reason.code}", "cost_center": "CC1"}
        )
    users = get_user_model().objects
    return {
        "erp": Token.objects.get_or_create(user=users.get(username="erp"))[0].key,
        "operator": Token.objects.get_or_create(user=users.get(username="operator"))[0].key,
        **adversary_tokens,
    }


# --- The load ----------------------------------------------------------------------------


@dataclass
class Replay:
    due: float
    method: str
    path: str
    body: bytes
    key: str
    status: int


@dataclass
class Window:
    name: str
    start: float
    end: float | None = None
    detail: str = ""
    wall_end: float = 0.0  # time.time() at the end, to compare with the logs


class Soak:
    def __init__(self, args, stack: Stack, tokens: dict, record: Record) -> None:
        self.args = args
        self.stack = stack
        self.tokens = tokens
        self.record = record
        self.plant = Plant()
        self.seconds = args.seconds
        self.scale = args.seconds / DEFAULT_SECONDS
        self.stop_load = threading.Event()  # no new orders, jobs, pages
        self.stop_erp = threading.Event()  # the ERP stops closing (end of the drain)
        self.t0 = 0.0
        self.windows: list[Window] = []
        self.replays: list[Replay] = []
        self.replay_lock = threading.Lock()
        self.max_orders = int(self.seconds * 1.2) + 20
        self.created = 0
        self.errors: list[str] = []  # exceptions in load threads
        self.adversary = Adversary(
            self,
            lambda token: Client(stack.web_port, "adversary", record, token),
            tokens,
            args.adversary_interval,
            resources_of,
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def guarded(self, name: str, target, *args) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except Exception as exc:  # a driver bug must show, not hang the soak
                import traceback

                self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                traceback.print_exc()
            finally:
                from django.db import connection

                connection.close()

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    # --- ERP -------------------------------------------------------------------------------

    def erp_write(
        self, client: Client, method: str, path: str, payload: dict, what: str, expect
    ) -> Answer | None:
        key = str(uuid.uuid4())
        body = json.dumps(payload).encode()
        answer = client.call(
            method, path, body, {"Content-Type": "application/json", "Idempotency-Key": key}, what
        )
        if answer is None:
            self.record.note(f"ERP {what} {path}: no answer")
            return None
        self.record.count(f"erp {what}")
        if answer.status not in expect:
            self.record.note(f"ERP {what} {path}: {answer.status} {answer.body[:200]!r}")
        elif random.random() < 0.10:
            with self.replay_lock:
                self.replays.append(
                    Replay(
                        time.monotonic() + random.uniform(0.5, 8.0),
                        method,
                        path,
                        body,
                        key,
                        answer.status,
                    )
                )
        return answer

    def run_replays(self, client: Client, everything: bool = False) -> None:
        now = time.monotonic()
        with self.replay_lock:
            due = [r for r in self.replays if everything or r.due <= now]
            self.replays = [r for r in self.replays if r not in due]
        for replay in due:
            answer = client.call(
                replay.method,
                replay.path,
                replay.body,
                {"Content-Type": "application/json", "Idempotency-Key": replay.key},
                "replay",
            )
            self.record.count("erp replays")
            if (
                answer is not None
                and answer.status == replay.status
                and answer.headers.get("Idempotent-Replayed") == "true"
            ):
                self.record.count("erp replays answered as replays")
            else:
                got = "no answer" if answer is None else f"{answer.status}"
                self.record.note(f"replay {replay.method} {replay.path}: {got}")

    def erp(self) -> None:
        rng = random.Random(self.args.seed)
        client = Client(self.stack.web_port, "erp", self.record, self.tokens["erp"])
        plant = self.plant
        next_create = 0.0
        while not self.stop_erp.is_set():
            self.run_replays(client)
            now = time.monotonic()
            # Create while a product has fewer than 10 orders waiting or on the floor.
            if (
                not self.stop_load.is_set()
                and self.created < self.max_orders
                and now >= next_create
            ):
                product = min(range(1, PRODUCTS + 1), key=plant.open_orders)
                if plant.open_orders(product) < 10:
                    self.create_order(client, rng, product)
                    next_create = now + 0.2
            # Close what the floor finished, once the processor has caught up with it.
            with plant.lock:
                due = [item for item in plant.to_close if item[0] <= now]
                for item in due:
                    plant.to_close.remove(item)
            for _, wo_id in due:
                self.close_order(client, wo_id)
            time.sleep(0.1)
        self.run_replays(client, everything=True)
        client.close()

    def create_order(self, client: Client, rng: random.Random, product: int) -> None:
        self.created += 1
        wo_id = f"{WO_PREFIX}{self.created:05d}"
        quantity = rng.randint(4, 12)
        payload = {
            "wo_id": wo_id,
            "part_number": f"SK-P{product}",
            "revision": "A",
            "qty_target": str(quantity),
            "scheduled_start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "priority": rng.randint(1, 9),
        }
        answer = self.erp_write(client, "POST", "/api/v1/work-orders/", payload, "create", {201})
        if answer is None or answer.status != 201:
            return
        order = SoakOrder(wo_id, product, quantity)
        with self.plant.lock:
            self.plant.orders[wo_id] = order
        if rng.random() < 0.3:  # the ERP changes its mind while the order is Created
            order.quantity = quantity = rng.randint(4, 12)
            payload = {**payload, "qty_target": str(quantity), "priority": rng.randint(1, 9)}
            self.erp_write(client, "POST", "/api/v1/work-orders/", payload, "update", {200})
        if rng.random() < 0.05:
            answer = self.erp_write(
                client,
                "POST",
                f"/api/v1/work-orders/{wo_id}/close/",
                {"mode": "cancel"},
                "cancel",
                {200},
            )
            with self.plant.lock:
                order.state = "canceled"
            return
        with self.plant.lock:
            self.plant.to_release.append(wo_id)

    def close_order(self, client: Client, wo_id: str) -> None:
        order = self.plant.orders[wo_id]
        answer = client.call("GET", f"/api/v1/work-orders/{wo_id}/", what="read")
        data = (answer.json() or {}) if answer is not None and answer.status == 200 else {}
        expected_scrap = sum(order.scrap.values())
        settled = (
            Decimal(data.get("qty_in_progress", "-1")) == 0
            and Decimal(data.get("qty_good", "-1")) == order.finished_good
            and Decimal(data.get("qty_scrap", "-1")) == expected_scrap
        )
        if not settled:
            with self.plant.lock:
                self.plant.to_close.append((time.monotonic() + 1.0, wo_id))
            return
        answer = self.erp_write(
            client,
            "POST",
            f"/api/v1/work-orders/{wo_id}/close/",
            {"mode": "short_close"},
            "close",
            {200},
        )
        if answer is not None and answer.status == 200:
            with self.plant.lock:
                order.state = "closed"

    # --- Planner ---------------------------------------------------------------------------

    def planner(self) -> None:
        from execution.models import Job
        from orders.models import ProductionOrder

        rng = random.Random(self.args.seed + 1)
        client = Client(self.stack.web_port, "planner", self.record)
        if not client.login("planner"):
            self.record.note("planner could not sign in")
            return
        erp = Client(self.stack.web_port, "erp", self.record, self.tokens["erp"])
        plant = self.plant
        while not self.stop_load.is_set():
            with plant.lock:
                wo_id = plant.to_release.popleft() if plant.to_release else None
                if wo_id is not None:
                    plant.orders[wo_id].state = "releasing"
            if wo_id is None:
                time.sleep(0.2)
                continue
            order = plant.orders[wo_id]
            pk = ProductionOrder.objects.get(number=wo_id).pk
            for _attempt in range(5):
                client.post_form(f"/planner/orders/{pk}/transition/release/", {}, what="release")
                if ProductionOrder.objects.get(pk=pk).status == "released":
                    break
                time.sleep(1)
            else:
                self.record.note(f"planner could not release {wo_id}")
                continue
            self.record.count("planner releases")
            jobs = dict(
                Job.objects.filter(order_id=pk, kind="process").values_list(
                    "operation_number", "id"
                )
            )
            with plant.lock:
                order.jobs = jobs
                order.state = "released"
            if rng.random() < 0.2:  # a new priority from the ERP: 200, or 202 once it runs
                self.erp_write(
                    erp,
                    "PATCH",
                    f"/api/v1/work-orders/{wo_id}/",
                    {"priority": rng.randint(1, 9)},
                    "patch",
                    {200, 202},
                )
            plant.push(resources_of(order.product)[0], Ticket(wo_id, 10, jobs[10], order.quantity))
        client.close()
        erp.close()

    # --- Terminals -------------------------------------------------------------------------

    def think(self, rng: random.Random) -> None:
        # After the load phase the workers finish their job and clock out a little faster,
        # not all at once (a burst of 50 posts would only measure the burst).
        slower = 0.5 if self.stop_load.is_set() else 1.0
        time.sleep(rng.uniform(self.args.think_min, self.args.think_max) * slower)

    def worker(self, index: int) -> None:
        rng = random.Random(self.args.seed * 1000 + index)
        badge = str(5001 + index)
        resource = index % RESOURCES + 1
        terminal = f"T-SK-{resource:02d}"
        client = Client(self.stack.web_port, "terminal", self.record, self.tokens["operator"])
        last = [datetime.now(UTC) - timedelta(seconds=1)]

        def post(kind: str, **fields) -> bool:
            occurred = max(datetime.now(UTC), last[0] + timedelta(milliseconds=1))
            last[0] = occurred
            body = {
                "registration_uuid": str(uuid.uuid4()),
                "kind": kind,
                "occurred_at": occurred.isoformat(),
                "terminal": terminal,
                **fields,
            }
            answer = client.post_json("/api/v1/registrations/", body, what=kind)
            if answer is not None and answer.status in (200, 202):
                self.record.count("registrations accepted")
                self.record.count(f"registrations: {kind}")
                with self.record.lock:
                    self.accepted_uuids.append(body["registration_uuid"])
                self.adversary.observe(badge, body)
                return True
            got = "no answer" if answer is None else f"{answer.status} {answer.body[:300]!r}"
            self.record.note(f"terminal {badge} {kind}: {got}")
            self.record.count("registrations refused")
            return False

        time.sleep(rng.uniform(0, min(15.0, 0.1 * self.seconds)))  # the shift arrives
        if not post("clock_in", badge_id=badge):
            return
        while not self.stop_load.is_set():
            ticket = self.plant.take(resource, timeout=1.0)
            if ticket is None:
                continue
            self.job(post, rng, badge, resource, ticket)
            breaking = rng.random() < 0.05 and not self.stop_load.is_set()
            if breaking and post("break_start", badge_id=badge):
                self.think(rng)
                post("break_stop", badge_id=badge)
            self.think(rng)
        post("clock_out", badge_id=badge)
        client.close()

    def job(self, post, rng: random.Random, badge: str, resource: int, ticket: Ticket) -> None:
        order = self.plant.orders[ticket.wo_id]
        if not post("start_job", badge_id=badge, job=ticket.job_id, quantity=str(ticket.quantity)):
            order.broken = True
            return
        order.started[ticket.operation] += ticket.quantity
        left = ticket.quantity
        reports = rng.randint(2, 4)
        good_total = 0
        for n in range(reports):
            self.think(rng)
            final = n == reports - 1 or self.stop_load.is_set()
            portion = left if final else min(left, max(1, round(ticket.quantity / reports)))
            scrap = 1 if portion > 0 and rng.random() < 0.15 else 0
            good = portion - scrap
            fields = {"quantity_good": str(good), "quantity_scrap": str(scrap)}
            if scrap:
                fields["reason_code"] = rng.choice(SCRAP_REASONS)
            if final:
                fields["completes_job"] = True
            elif portion == 0:
                continue
            if post("report_progress", badge_id=badge, job=ticket.job_id, **fields):
                order.good[ticket.operation] += good
                order.scrap[ticket.operation] += scrap
                good_total += good
            else:
                order.broken = True
            left -= portion
            if final:
                break
        if ticket.operation == 10 and good_total > 0:
            self.plant.push(
                resources_of(order.product)[1], Ticket(ticket.wo_id, 20, order.jobs[20], good_total)
            )
            return
        if ticket.operation == 20 and good_total > 0:
            self.think(rng)
            if post("report_as_finished", order=ticket.wo_id, quantity_good=str(good_total)):
                order.finished_good += good_total
            else:
                order.broken = True
        with self.plant.lock:
            order.state = "finished"
            self.plant.to_close.append((time.monotonic() + 2.0, ticket.wo_id))

    # --- Supervisors -----------------------------------------------------------------------

    PAGES = (
        "/supervisor/floor/",
        "/supervisor/floor/live/",
        "/supervisor/plan/",
        "/floor/processing-log/",
        "/planner/orders/",
        "/dashboard/",
        "/it/outbox/",
        "/inbox/change-requests/",
        "/api/v1/registrations/?status=failed",
        "/api/v1/registrations/?limit=50",
    )

    def supervisor(self, index: int) -> None:
        rng = random.Random(self.args.seed * 7 + index)
        client = Client(self.stack.web_port, "supervisor", self.record)
        if not client.login("supervisor"):
            self.record.note("supervisor could not sign in")
            return
        while not self.stop_load.is_set():
            page = rng.choice(self.PAGES)
            answer = client.call("GET", page, what=page.split("?")[0])
            self.record.count("supervisor pages")
            if answer is None or answer.status != 200:
                got = "no answer" if answer is None else answer.status
                self.record.note(f"supervisor {page}: {got}")
            time.sleep(rng.uniform(1.0, 3.0))
        client.close()

    # --- Faults ----------------------------------------------------------------------------

    def wait_until(self, fraction: float) -> bool:
        """Sleep until that point of the load phase; False if the load stopped first."""
        while self.elapsed() < fraction * self.seconds:
            if self.stop_load.wait(0.2):
                return False
        return True

    def window(self, name: str, detail: str = "") -> Window:
        window = Window(name, self.elapsed(), detail=detail)
        self.windows.append(window)
        log(f"fault: {name} {detail}".rstrip())
        return window

    def faults(self) -> None:
        stack, procs = self.stack, self.stack.procs
        if self.wait_until(AT_KILL_WORKER):
            victim = stack.workers[0]
            w = self.window("SIGKILL celery worker", f"pid {victim.pid}")
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            stack.start_worker()
            w.end, w.wall_end = self.elapsed(), time.time()
        if self.wait_until(AT_REDIS):
            down = max(3.0, 20 * self.scale)
            w = self.window("redis restart", f"down {down:.0f} s")
            procs.stop(stack.redis)
            time.sleep(down)
            stack.start_redis()
            w.end, w.wall_end = self.elapsed(), time.time()
        if self.wait_until(AT_ERP_DOWN):
            down = max(10.0, 120 * self.scale)
            w = self.window("ERP simulator down", f"{down:.0f} s")
            procs.stop(stack.erp)
            time.sleep(down)
            stack.start_erp()
            w.end, w.wall_end = self.elapsed(), time.time()
        if self.wait_until(AT_REJECT):
            w = self.window("ERP rejects the next message")
            stack.erp_control("/control/mode", {"mode": "reject", "count": 1})
            w.end, w.wall_end = w.start, time.time()
        if self.wait_until(AT_GUNICORN):
            w = self.window("gunicorn restart")
            procs.stop(stack.web)
            stack.start_web()
            w.end, w.wall_end = self.elapsed(), time.time()

    # --- Monitor ---------------------------------------------------------------------------

    def monitor(self) -> None:
        while not self.stop_erp.wait(15):
            log(
                f"t={self.elapsed():5.0f}s  {backlog()}  "
                f"posts {self.record.counts['registrations accepted']}"
            )

    # --- The run ---------------------------------------------------------------------------

    def run(self) -> dict:
        self.accepted_uuids: list[str] = []
        self.t0 = time.monotonic()
        threads = [
            self.guarded("erp", self.erp),
            self.guarded("planner", self.planner),
            self.guarded("faults", self.faults),
            self.guarded("monitor", self.monitor),
        ]
        terminals = [self.guarded(f"worker-{i}", self.worker, i) for i in range(WORKERS)]
        supervisors = [self.guarded(f"supervisor-{i}", self.supervisor, i) for i in range(2)]
        supervisors.append(self.guarded("adversary", self.adversary.run))
        while self.elapsed() < self.seconds:
            time.sleep(0.5)
        load_seconds = self.elapsed()
        log(f"load phase over after {load_seconds:.0f} s: workers finish their job, clock out")
        self.stop_load.set()
        for thread in [*terminals, *supervisors, threads[1], threads[2]]:
            thread.join(timeout=max(0.1, 120 - (self.elapsed() - load_seconds)))
        stuck = [t.name for t in [*terminals, *supervisors, *threads[1:3]] if t.is_alive()]
        if stuck:
            self.errors.append(f"threads still running after the load: {stuck[:5]}")
        drain = self.drain()
        self.stop_erp.set()
        threads[0].join(timeout=60)
        threads[3].join(timeout=20)
        return {"load_seconds": load_seconds, **drain}

    def drain(self) -> dict:
        """Wait (bounded) for the processor, the ERP's closes and the relay to finish."""
        from execution.models import RawRegistration
        from integration.models import OutboxMessage

        started = time.monotonic()
        deadline = started + self.args.drain_seconds
        done = {}
        while time.monotonic() < deadline:
            pending = RawRegistration.objects.filter(status__in=("new", "failed")).count()
            with self.plant.lock:
                closing = len(self.plant.to_close)
            open_messages = OutboxMessage.objects.filter(
                status__in=("pending", "dead_letter")
            ).count()
            if not pending and not closing and not open_messages:
                done["drained"] = True
                break
            time.sleep(1)
        else:
            done["drained"] = False
        done["drain_seconds"] = time.monotonic() - started
        log(
            f"drain {'done' if done['drained'] else 'TIMED OUT'} in "
            f"{done['drain_seconds']:.0f} s: {backlog()}"
        )
        return done


def backlog() -> str:
    from execution.models import RawRegistration
    from integration.models import OutboxMessage

    regs = Counter(RawRegistration.objects.values_list("status", flat=True))
    messages = Counter(OutboxMessage.objects.values_list("status", flat=True))
    return (
        f"registrations new {regs['new']} failed {regs['failed']} processed {regs['processed']}; "
        f"outbox pending {messages['pending']} dlq {messages['dead_letter']} "
        f"delivered {messages['delivered']}"
    )


# --- Checks ------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    value: str
    ok: bool | None  # None: information only


def in_windows(at: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= at <= end for start, end in windows)


def check_registrations(soak: Soak) -> list[Check]:
    from django.db.models import Count, Q

    from execution.models import ProcessingLogEntry, RawRegistration

    statuses = Counter(RawRegistration.objects.values_list("status", flat=True))
    entries = {
        row["registration_id"]: (row["n"], row["processed"])
        for row in ProcessingLogEntry.objects.values("registration_id").annotate(
            n=Count("id"), processed=Count("id", filter=Q(outcome="processed"))
        )
    }
    ids = list(RawRegistration.objects.values_list("id", flat=True))
    not_once = sum(1 for pk in ids if entries.get(pk) != (1, 1))
    sent = set(soak.accepted_uuids)
    stored = set(
        str(u) for u in RawRegistration.objects.filter(uuid__in=sent).values_list("uuid", flat=True)
    )
    left = statuses.get("new", 0) + statuses.get("failed", 0)
    return [
        Check(
            "registrations processed (none new / failed / canceled)",
            f"{statuses.get('processed', 0)} processed, {statuses.get('new', 0)} new, "
            f"{statuses.get('failed', 0)} failed, {statuses.get('canceled', 0)} canceled",
            left == 0 and not statuses.get("canceled"),
        ),
        Check(
            "one processing-log entry (processed) per registration",
            f"{len(ids) - not_once} of {len(ids)}",
            not_once == 0,
        ),
        Check(
            "every accepted terminal post stored",
            f"{len(stored)} of {len(sent)}",
            stored == sent,
        ),
    ]


def check_outbox(soak: Soak, stack: Stack) -> list[Check]:
    from integration.models import OutboxMessage

    messages = list(OutboxMessage.objects.order_by("stream", "sequence"))
    statuses = Counter(m.status for m in messages)
    received = stack.erp_control("/control/messages")["messages"]
    stats = stack.erp_control("/control/stats")
    uuids = [r["transaction_uuid"] for r in received]
    delivered = {str(m.transaction_uuid) for m in messages if m.status == "delivered"}
    known = {str(m.transaction_uuid) for m in messages}
    arrived: dict[str, list[int]] = defaultdict(list)
    for record in received:
        arrived[record["stream"]].append(record["sequence"])
    expected: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        if m.status == "delivered":
            expected[m.stream].append(m.sequence)
    disordered = [s for s in expected if arrived.get(s) != expected[s]]
    disordered += [s for s in arrived if s not in expected]
    # The dead-letter queue: empty, or the rejected message (422) and what it holds.
    open_messages = [m for m in messages if m.status in ("pending", "dead_letter")]
    heads = {}
    for m in open_messages:
        heads.setdefault(m.stream, m)
    rejected_heads = {
        s for s, m in heads.items() if m.status == "dead_letter" and m.last_status_code == 422
    }
    dlq_ok = all(m.stream in rejected_heads for m in open_messages) and len(rejected_heads) <= 1
    dlq_text = (
        "empty"
        if not open_messages
        else f"{statuses.get('dead_letter', 0)} dead letter + {statuses.get('pending', 0)} "
        f"pending in streams {sorted(heads)[:5]}"
    )
    ever_dead = sum(1 for m in messages if m.dead_lettered_at is not None)
    return [
        Check(
            "outbox messages delivered",
            f"{statuses.get('delivered', 0)} of {len(messages)} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})",
            statuses.get("delivered", 0) + len(open_messages) == len(messages)
            and (not open_messages or dlq_ok),
        ),
        Check(
            "simulator record: each delivered message exactly once",
            f"{len(uuids)} recorded, {len(set(uuids))} distinct, "
            f"{len(delivered - set(uuids))} missing, {len(set(uuids) - known)} unknown",
            len(uuids) == len(set(uuids)) and set(uuids) == delivered,
        ),
        Check(
            "simulator record: in sequence per work order",
            f"{len(expected) - len(disordered)} of {len(expected)} streams in order",
            not disordered,
        ),
        Check(
            "simulator refused no signature (bad / stale / replayed / invalid)",
            ", ".join(
                f"{k} {stats.get(k, 0)}"
                for k in ("bad_signature", "stale_timestamp", "replayed", "invalid")
            ),
            not any(
                stats.get(k) for k in ("bad_signature", "stale_timestamp", "replayed", "invalid")
            ),
        ),
        Check(
            "simulator rejected exactly one message (the fault)",
            f"rejected {stats.get('rejected', 0)}",
            stats.get("rejected", 0) == 1,
        ),
        Check(
            "dead-letter queue after retries",
            f"{dlq_text}; {ever_dead} messages were dead-lettered on the way",
            not open_messages or dlq_ok,
        ),
        Check(
            "resends absorbed by the ERP's duplicate check (information)",
            f"{stats.get('duplicates', 0)}; refused while down/failing: failed "
            f"{stats.get('failed', 0)}, timed out {stats.get('timed_out', 0)}",
            None,
        ),
    ]


def check_inventory(env: dict) -> list[Check]:
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_inventory"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    text = (result.stdout + result.stderr).strip().splitlines()
    return [
        Check(
            "on-hand equals the ledger (manage.py verify_inventory)",
            text[-1][:110] if text else f"exit {result.returncode}",
            result.returncode == 0,
        )
    ]


def check_orders(soak: Soak) -> list[Check]:
    from django.db.models import Sum

    from execution.models import Job, RawRegistration, ReportAsFinishedLine, RouteCardLine
    from orders.models import ProductionOrder

    orders = {o.number: o for o in ProductionOrder.objects.filter(number__startswith=WO_PREFIX)}
    ids = {o.pk: o for o in orders.values()}

    def totals(model, key, *fields):
        rows = (
            model.objects.filter(order_id__in=ids)
            .values(key)
            .annotate(**{f: Sum(f) for f in fields})
        )
        return {row[key]: row for row in rows}

    cards = totals(RouteCardLine, "order_id", "quantity_good", "quantity_scrap")
    finished = totals(ReportAsFinishedLine, "order_id", "quantity_good", "quantity_scrap")
    job_cards = {
        row["job_id"]: row["good"]
        for row in RouteCardLine.objects.filter(order_id__in=ids)
        .values("job_id")
        .annotate(good=Sum("quantity_good"))
    }
    starts = {
        row["job_id"]: row["q"]
        for row in RawRegistration.objects.filter(
            order_id__in=ids, kind__in=("start_job", "bundle"), status="processed"
        )
        .values("job_id")
        .annotate(q=Sum("quantity"))
    }
    zero = Decimal(0)
    journal_bad, job_bad, driver_bad = [], [], []
    first_started: dict[int, Decimal] = {}
    for job in Job.objects.filter(order_id__in=ids, kind="process").order_by("operation_number"):
        first_started.setdefault(job.order_id, job.quantity_started)
        if job.quantity_good != job_cards.get(job.pk, zero) or job.quantity_started != starts.get(
            job.pk, zero
        ):
            job_bad.append(f"job {job.pk}")
    for pk, order in ids.items():
        card, fin = cards.get(pk, {}), finished.get(pk, {})
        completed = fin.get("quantity_good") or zero
        scrapped = (card.get("quantity_scrap") or zero) + (fin.get("quantity_scrap") or zero)
        in_progress = max(zero, first_started.get(pk, zero) - completed - scrapped)
        if (order.quantity_completed, order.quantity_scrapped, order.quantity_in_progress) != (
            completed,
            scrapped,
            in_progress,
        ):
            journal_bad.append(
                f"{order.number}: completed/scrapped/in progress {order.quantity_completed}/"
                f"{order.quantity_scrapped}/{order.quantity_in_progress}, journals "
                f"{completed}/{scrapped}/{in_progress}"
            )
    states = Counter()
    closed_bad = []
    for wo_id, mine in soak.plant.orders.items():
        order = orders.get(wo_id)
        states[mine.state] += 1
        if order is None:
            driver_bad.append(f"{wo_id} missing")
            continue
        good, scrap = mine.finished_good, sum(mine.scrap.values())
        if (order.quantity_completed, order.quantity_scrapped) != (good, scrap):
            driver_bad.append(
                f"{wo_id}: good/scrap {order.quantity_completed}/{order.quantity_scrapped}, "
                f"terminals reported {good}/{scrap}"
            )
        if mine.state == "closed" and order.status not in ("closed", "canceled"):
            closed_bad.append(f"{wo_id} {order.status}")
        if mine.state == "canceled" and order.status != "canceled":
            closed_bad.append(f"{wo_id} {order.status}")
    status_counts = Counter(o.status for o in orders.values())
    return [
        Check(
            "soak orders: quantities equal the sum of their journals",
            f"{len(ids) - len(journal_bad)} of {len(ids)}"
            + (f"; e.g. {journal_bad[0]}" if journal_bad else ""),
            not journal_bad,
        ),
        Check(
            "soak jobs: good and started equal their route card / start registrations",
            f"{len(job_bad)} differ" + (f"; e.g. {job_bad[0]}" if job_bad else ""),
            not job_bad,
        ),
        Check(
            "soak orders: good / scrap equal what the terminals reported",
            f"{len(soak.plant.orders) - len(driver_bad)} of {len(soak.plant.orders)}"
            + (f"; e.g. {driver_bad[0]}" if driver_bad else ""),
            not driver_bad,
        ),
        Check(
            "soak orders: one per wo_id created, closes and cancels applied",
            f"{len(orders)} in the database, {len(soak.plant.orders)} created; "
            f"status {dict(sorted(status_counts.items()))}"
            + (f"; wrong: {closed_bad[:3]}" if closed_bad else ""),
            len(orders) == len(soak.plant.orders) and not closed_bad,
        ),
        Check(
            "driver view of the orders (information)",
            ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
            + f"; broken by a refusal: {sum(1 for o in soak.plant.orders.values() if o.broken)}",
            None,
        ),
    ]


def check_http(soak: Soak, record: Record, max_p99_ms: float, log_dir: Path) -> list[Check]:
    restart = [
        (w.start - 1.0, (w.end or w.start) + 5.0)
        for w in soak.windows
        if w.name == "gunicorn restart"
    ]
    restart = [(soak.t0 + a, soak.t0 + b) for a, b in restart]
    samples = record.samples
    errors = [s for s in samples if s.status >= 500]
    outside = [s for s in errors if not in_windows(s.at, restart)]
    refused = [s for s in samples if s.status == 0]
    refused_outside = [s for s in refused if not in_windows(s.at, restart)]
    terminal = [s for s in samples if s.who == "terminal" and s.status]
    lat = [s.seconds for s in terminal]
    lat_outside = [s.seconds for s in terminal if not in_windows(s.at, restart)]
    p99 = percentile(lat, 99) * 1e3
    p99_outside = percentile(lat_outside, 99) * 1e3
    faults = [
        (soak.t0 + w.start - 1.0, soak.t0 + (w.end or w.start) + 5.0)
        for w in soak.windows
        if w.end is not None and w.end > w.start
    ]
    calm = [s.seconds for s in terminal if not in_windows(s.at, faults)]
    by_who = Counter(s.who for s in samples if s.status)
    bad_terminal = [s for s in terminal if s.status not in (200, 202) and s.status < 500]
    supervisor_bad = [
        s
        for s in samples
        if s.who == "supervisor" and s.status not in (0, 200, 302) and s.status < 500
    ]
    causes = server_errors(log_dir)
    return [
        Check(
            "no HTTP 5xx outside the gunicorn restart window",
            f"{len(outside)} outside, {len(errors) - len(outside)} inside"
            + (f"; e.g. {outside[0].who} {outside[0].what} {outside[0].status}" if outside else "")
            + "".join(f"; {n} x {cause}" for cause, n in causes.items()),
            not outside,
        ),
        Check(
            "no refused connection outside the gunicorn restart window",
            f"{len(refused_outside)} outside, {len(refused) - len(refused_outside)} inside",
            not refused_outside,
        ),
        Check(
            "terminal registrations refused (valid sequences: none)",
            f"{len(bad_terminal)}"
            + (f"; {Counter(s.status for s in bad_terminal)}" if bad_terminal else ""),
            not bad_terminal,
        ),
        Check(
            "supervisor pages and lists answered 200",
            f"{by_who['supervisor'] - len(supervisor_bad)} of {by_who['supervisor']}",
            not supervisor_bad,
        ),
        Check(
            f"p99 latency of terminal posts (limit {max_p99_ms:.0f} ms outside the restart)",
            f"all: p50 {percentile(lat, 50) * 1e3:.0f} ms, p99 {p99:.0f} ms, max "
            f"{max(lat, default=0) * 1e3:.0f} ms; outside the restart: p99 {p99_outside:.0f} "
            f"ms; outside every fault: p50 {percentile(calm, 50) * 1e3:.0f} ms, p99 "
            f"{percentile(calm, 99) * 1e3:.0f} ms",
            p99_outside <= max_p99_ms,
        ),
    ]


def check_replays(record: Record) -> list[Check]:
    replays = record.counts["erp replays"]
    ok = record.counts["erp replays answered as replays"]
    writes = sum(v for k, v in record.counts.items() if k.startswith("erp ") and "replay" not in k)
    return [
        Check(
            "ERP replays (same Idempotency-Key) answered with the first answer",
            f"{ok} of {replays} ({replays / max(1, writes):.0%} of {writes} ERP writes)",
            ok == replays and replays > 0,
        )
    ]


def server_errors(log_dir: Path) -> Counter:
    """The cause (last exception line) of every 'Internal Server Error' in gunicorn's logs."""
    causes: Counter = Counter()
    for path in sorted(log_dir.glob("gunicorn-*.log")):
        cause = None
        for line in path.read_text(errors="replace").splitlines():
            if line[:2] == "20" and line[4:5] == "-":  # a new log record
                if cause is not None:
                    causes[cause] += 1
                    cause = None
                if "Internal Server Error" in line:
                    cause = "unknown"
            elif cause is not None and re.match(r"^[\w.]+(Error|Exception|Detected)\b", line):
                cause = line[:90]
        if cause is not None:
            causes[cause] += 1
    return causes


def check_workers(soak: Soak, stack: Stack, log_dir: Path) -> list[Check]:
    """Every Celery worker alive at the end ran tasks after the last fault that touched it
    (its own start, the Redis restart): none hung on a lost broker connection."""
    after = max((w.wall_end for w in soak.windows if w.name == "redis restart"), default=0.0)
    rows = []
    for name, process in stack.worker_names.items():
        if process.poll() is not None and process.returncode == -signal.SIGKILL:
            continue
        since = datetime.fromtimestamp(after).strftime("%Y-%m-%d %H:%M:%S")
        done = 0
        for line in (log_dir / f"{name}.log").read_text(errors="replace").splitlines():
            if "succeeded in" in line and line[1:20] >= since:
                done += 1
        rows.append((name, done))
    return [
        Check(
            "every Celery worker still running ran tasks after the Redis restart",
            ", ".join(f"{name} {n} tasks" for name, n in rows),
            bool(rows) and all(n > 0 for _, n in rows),
        )
    ]


def task_failures(log_dir: Path) -> Counter:
    """Celery tasks that raised, by task and exception (first line), from the workers' logs."""
    causes: Counter = Counter()
    pattern = re.compile(r"Task ([\w.]+)\[[^\]]*\] raised unexpected: (\w+)\((['\"])(.*)")
    for path in sorted(log_dir.glob("celery-worker-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            found = pattern.search(line)
            if found:
                task, error, message = found.group(1), found.group(2), found.group(4)
                message = message.split("\\n")[0].rstrip("'\")")[:60]
                causes[f"{task.rsplit('.', 1)[1]}: {error}: {message}"] += 1
    return causes


def scan_logs(log_dir: Path) -> list[Check]:
    lines = Counter()
    for path in sorted(log_dir.glob("*.log")):
        if path.name.startswith(("erp-simulator", "redis")):
            continue
        for line in path.read_text(errors="replace").splitlines():
            if "Traceback" in line or " ERROR " in line or "ERROR/" in line or "CRITICAL" in line:
                lines[path.stem] += 1
    failures = task_failures(log_dir)
    return [
        Check(
            "Celery tasks that raised (information; a failed processor run leaves its "
            "registrations new for the next run)",
            "; ".join(f"{n} x {cause}" for cause, n in failures.most_common()) or "none",
            None,
        ),
        Check(
            "tracebacks / ERROR lines in the logs (information; dead letters are logged at ERROR)",
            ", ".join(f"{k} {v}" for k, v in sorted(lines.items())) or "none",
            None,
        ),
    ]


# --- Report ------------------------------------------------------------------------------


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print()
    print(title)
    for name, value, mark in rows:
        print(f"  {mark:<5} {name:<{width}}  {value}")


def report(soak: Soak, record: Record, result: dict, checks: list[Check]) -> None:
    from integration.models import OutboxMessage

    counts = record.counts
    kinds = sorted(k for k in counts if k.startswith("registrations: "))
    by_status = Counter((s.who, s.status) for s in record.samples)
    whos = sorted({w for w, _ in by_status})
    messages = Counter(OutboxMessage.objects.values_list("kind", flat=True))
    load = [
        (
            "phases",
            f"setup {result['setup_seconds']:.0f} s, load {result['load_seconds']:.0f} s, "
            f"drain {result['drain_seconds']:.0f} s",
        ),
        (
            "ERP work orders",
            f"{soak.created} created, {counts['erp update']} updated while Created, "
            f"{counts['erp patch']} PATCHed after release, {counts['erp cancel']} canceled, "
            f"{counts['erp close']} closed (short_close)",
        ),
        ("ERP replays (same key and body)", f"{counts['erp replays']}"),
        ("planner releases (order page POST)", f"{counts['planner releases']}"),
        (
            "terminal registrations accepted",
            f"{counts['registrations accepted']} from {WORKERS} workers on {RESOURCES} resources",
        ),
        ("  by kind", ", ".join(f"{k[15:]} {counts[k]}" for k in kinds)),
        ("supervisor page / list reads", f"{counts['supervisor pages']}"),
        (
            "outbox messages written",
            f"{sum(messages.values())}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(messages.items())),
        ),
    ]
    for who in whos:
        statuses = {st: n for (w, st), n in by_status.items() if w == who}
        load.append(
            (
                f"HTTP answers, {who}",
                ", ".join(
                    f"{'no answer' if st == 0 else st}: {n}" for st, n in sorted(statuses.items())
                ),
            )
        )
    for w in soak.windows:
        end = f"-{w.end:.0f}" if w.end is not None and w.end != w.start else ""
        load.append((f"fault at {w.start:.0f}{end} s", f"{w.name} {w.detail}".rstrip()))
    print_table("LOAD", [(a, b, "") for a, b in load])
    print_table(
        "ADVERSARIAL TERMINAL (answers by status and code)",
        [(a, b, "") for a, b in soak.adversary.table()],
    )
    rows = [(c.name, c.value, {None: "info", True: "OK"}.get(c.ok, "FAIL")) for c in checks]
    print_table("INVARIANTS", rows)
    if record.notes:
        print()
        print(f"unexpected answers ({len(record.notes)}), first 15:")
        for note in record.notes[:15]:
            print(f"    {note}")
    if soak.errors:
        print()
        print("driver errors:")
        for error in soak.errors:
            print(f"    {error}")


# --- Main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help=f"load phase (default: $SOAK_SECONDS, else {DEFAULT_SECONDS}; --ci: {CI_SECONDS})",
    )
    parser.add_argument("--ci", action="store_true", help=f"short mode: {CI_SECONDS} s")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--drain-seconds", type=float, default=None)
    parser.add_argument("--think-min", type=float, default=4.0, help="seconds between posts")
    parser.add_argument("--think-max", type=float, default=8.0)
    parser.add_argument(
        "--max-p99-ms",
        type=float,
        default=8000.0,
        help="limit of the p99 latency of terminal posts outside the gunicorn restart",
    )
    parser.add_argument(
        "--adversary-interval",
        type=float,
        default=0.4,
        help="seconds between the adversarial terminal's posts",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs on success too")
    args = parser.parse_args()
    if args.seconds is None:
        env_seconds = os.environ.get("SOAK_SECONDS")
        args.seconds = float(env_seconds or (CI_SECONDS if args.ci else DEFAULT_SECONDS))
    if args.drain_seconds is None:
        args.drain_seconds = max(60.0, 0.3 * args.seconds)
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL")
    database_name(url)
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")

    var_dir = Path(tempfile.mkdtemp(prefix="mes_bench_soak_"))
    log_dir = var_dir / "logs"
    log_dir.mkdir()
    procs = Processes(log_dir, {})
    stack = Stack(procs, var_dir)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": stack.redis_url,
        "DJANGO_SETTINGS_MODULE": "mesproject.settings.base",
        "MES_VAR_DIR": str(var_dir),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MES_ERP_ENDPOINT_URL": f"http://127.0.0.1:{stack.erp_port}/api/messages",
        "MES_ERP_SIGNING_SECRETS": SECRET,
        "MES_PUBLIC_URL": f"http://127.0.0.1:{stack.web_port}",
        # Retries within the run: 2 s, 4 s, 8 s, then every 15 s.
        "MES_OUTBOX_RETRY_SECONDS": "2,4,8,15",
        "MES_OUTBOX_DLQ_AFTER_ATTEMPTS": "3",
        "MES_OUTBOX_INTERVAL_SECONDS": "3",
        "MES_PROCESSOR_INTERVAL_SECONDS": "5",
        "MES_HEARTBEAT_SECONDS": "10",
        "MES_MATERIAL_ISSUE_BATCH_MINUTES": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    procs.env = env
    os.environ.update(env)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    ok = False
    try:
        ok = run(args, stack, env, log_dir)
    except KeyboardInterrupt:
        log("interrupted: stopping every process")
    finally:
        procs.stop_all()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if ok and not args.keep_logs:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"logs: {log_dir}")
    return 0 if ok else 1


def run(args, stack: Stack, env: dict, log_dir: Path) -> bool:
    started = time.monotonic()
    log(
        f"{args.seconds:.0f} s soak on {args.database_url.rsplit('/', 1)[1]}; "
        f"code {code_version()}; logs in {log_dir}"
    )
    stack.start_redis()
    recreate_database(args.database_url)
    import django

    django.setup()
    tokens = seed()
    from django.db import connections

    connections.close_all()
    stack.start_erp()
    stack.start_web()
    stack.start_worker()
    stack.start_worker()
    stack.start_beat()
    setup_seconds = time.monotonic() - started
    log(
        f"setup {setup_seconds:.0f} s: gunicorn :{stack.web_port}, redis "
        f":{stack.redis_port}, ERP simulator :{stack.erp_port}, 2 workers, beat"
    )
    record = Record()
    soak = Soak(args, stack, tokens, record)
    result = {"setup_seconds": setup_seconds, **soak.run()}
    # Freeze the MES side (workers, beat, web), then read it.
    for process in [*stack.workers, stack.beat, stack.web]:
        if process is not None:
            stack.procs.stop(process)
    checks = [
        *check_registrations(soak),
        *check_outbox(soak, stack),
        *check_inventory(env),
        *check_orders(soak),
        *check_replays(record),
        *check_http(soak, record, args.max_p99_ms, log_dir),
        *check_workers(soak, stack, log_dir),
        *(Check(*row) for row in adversary_checks(soak.adversary, record.samples)),
        *(Check(*row) for row in flow_checks()),
        Check(
            "load drained within the bounded wait",
            f"{result['drain_seconds']:.0f} s (limit {args.drain_seconds:.0f} s)",
            result["drained"],
        ),
        Check("load driver ran without errors", f"{len(soak.errors)} errors", not soak.errors),
        *scan_logs(log_dir),
    ]
    report(soak, record, result, checks)
    with (log_dir / "samples.csv").open("w", newline="") as out:
        writer = csv.writer(out)  # the adversary's attack names hold commas
        writer.writerow(("who", "what", "status", "seconds", "at"))
        for sample in record.samples:
            writer.writerow(
                (
                    sample.who,
                    sample.what,
                    sample.status,
                    f"{sample.seconds:.4f}",
                    f"{sample.at - soak.t0:.2f}",
                )
            )
    failed = [c for c in checks if c.ok is False]
    print()
    print(
        f"soak {'PASSED' if not failed else f'FAILED ({len(failed)} invariants)'}"
        + f" in {time.monotonic() - started:.0f} s"
    )
    return not failed


if __name__ == "__main__":
    sys.exit(main())
