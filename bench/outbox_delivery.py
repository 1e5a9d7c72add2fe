"""The outbox relay delivering to the ERP simulator, against a bare urllib loop POSTing the same
signed bodies to the same simulator (no database), side by side.

    .venv/bin/python bench/outbox_delivery.py [--messages 5000] [--orders 50] [--threads 4]
        [--database-url postgres://postgres@127.0.0.1:5432/mes_bench_outbox]
        [--redis-url redis://127.0.0.1:6379/7]

Drops and recreates the database named in --database-url (it must start with "mes_bench"),
migrates it, starts the ERP simulator (``manage.py erp_simulator --port P --secret S``, its
records in a temporary SQLite file) and writes --messages outbox messages round-robin across
--orders work-order streams through the real enqueue service (integration.erp.services.outbox.
outbox_enqueue: one transaction each, numbered under the stream's row lock, the relay nudge
after each commit going to Redis db 7 where no worker listens; timed, as a side figure).

Timed, in this process, each run starting from the same state (every message pending, the
simulator emptied):

- ``relay``: integration.erp.services.relay.outbox_deliver with MES_OUTBOX_THREADS=--threads
  (what the deliver_outbox task runs: stream heads claimed FOR UPDATE SKIP LOCKED, each
  sent while its row is locked, threads for streams), called until nothing is left;
- ``relay, 1 thread``: the same with MES_OUTBOX_THREADS=1 (no thread pool, one connection);
- ``bare loop``: the same bodies (integration.erp.services.relay.message_body, built before the
  clock starts), signed at send time like the relay, POSTed with urllib one after another;
- ``bare, N threads``: the same, the streams shared out over --threads threads, each stream
  in sequence.

After every run the simulator's record is checked: every message exactly once (by
transaction_uuid, no duplicate answered), in sequence order per work order, no signature
refused; after the relay runs, every row is delivered in the database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    ROOT,
    code_version,
    database_name,
    forget_nudges,
    free_port,
    machine,
    postgres_version,
    recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mes_bench_outbox"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
SECRET = "bench-secret"


# --- The ERP simulator -------------------------------------------------------------------


class Simulator:
    def __init__(self, port: int, db_path: Path, env: dict) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = db_path.with_suffix(".log")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "manage.py", "erp_simulator", "--port", str(port)),
                    *("--secret", SECRET, "--db", str(db_path), "--quiet"),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the ERP simulator exited:\n{self.log_path.read_text()}")
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit("the ERP simulator did not answer /healthz")

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as answer:
            return json.loads(answer.read())

    def reset(self) -> None:
        request = urllib.request.Request(
            self.url + "/control/reset",
            data=b"{}",
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def check_record(simulator: Simulator, expected: dict[str, list[str]]) -> list[str]:
    """expected: stream -> transaction_uuids in sequence order. Returns the problems."""
    problems = []
    received = simulator.get("/control/messages")["messages"]
    stats = simulator.get("/control/stats")
    uuids = [r["transaction_uuid"] for r in received]
    wanted = [u for stream in expected.values() for u in stream]
    if len(uuids) != len(set(uuids)):
        problems.append(f"{len(uuids) - len(set(uuids))} messages recorded twice")
    if set(uuids) != set(wanted):
        problems.append(
            f"{len(set(wanted) - set(uuids))} missing, {len(set(uuids) - set(wanted))} unknown"
        )
    arrived: dict[str, list[str]] = {}
    for record in received:
        arrived.setdefault(record["stream"], []).append(record["transaction_uuid"])
    disordered = [s for s, order in expected.items() if arrived.get(s, []) != order]
    if disordered:
        problems.append(f"{len(disordered)} streams out of order, e.g. {disordered[0]}")
    for counter in ("duplicates", "bad_signature", "stale_timestamp", "replayed", "invalid"):
        if stats.get(counter):
            problems.append(f"simulator counted {stats[counter]} {counter}")
    return problems


# --- The runs ----------------------------------------------------------------------------


def enqueue(messages: int, orders: int) -> float:
    """Write the messages through the real service, round-robin across the streams; each in
    its own transaction, as the changes they report commit one by one."""
    from integration.choices import MessageKind
    from integration.erp.services.outbox import outbox_enqueue

    streams = [f"WO-B{n:04d}" for n in range(orders)]
    started = time.perf_counter()
    for n in range(messages):
        stream = streams[n % orders]
        if n % 3 == 2:
            kind = MessageKind.PRODUCTION_COMPLETION
            payload = {
                "wo_id": stream,
                "parent_part": "BIKE-100",
                "serial_number": f"SN-{n:07d}",
                "qty_good": "1",
                "uom": "pcs",
                "location_id": "MAIN/FG",
            }
        else:
            kind = MessageKind.MATERIAL_ISSUE
            payload = {
                "wo_id": stream,
                "component_part": "WHEEL-28",
                "lot_number": f"L-{n // 100:05d}",
                "qty_consumed": "50",
                "uom": "pcs",
                "postings": 50,
            }
        outbox_enqueue(stream=stream, kind=kind, payload=payload)
    return time.perf_counter() - started


def make_pending() -> None:
    """Every message back to pending and due (the state right after enqueue)."""
    from django.utils import timezone

    from integration.choices import MessageStatus
    from integration.models import OutboxMessage

    OutboxMessage.objects.update(
        status=MessageStatus.PENDING,
        attempts=0,
        delivered_at=None,
        next_attempt_at=timezone.now(),
        last_status_code=None,
        last_error="",
    )


def run_relay(threads: int, statements: list[int]) -> tuple[float, int, int]:
    """(seconds, delivered, outbox_deliver calls) until every message is delivered; with one
    thread (one connection), the SQL statements it ran are counted into `statements`."""
    from django.conf import settings
    from django.db import connection, connections

    from integration.choices import MessageStatus
    from integration.erp.services.relay import outbox_deliver
    from integration.models import OutboxMessage

    settings.MES_OUTBOX_THREADS = threads
    connections.close_all()
    delivered = calls = 0

    def count(execute, sql, params, many, context):
        statements.append(1)
        return execute(sql, params, many, context)

    wrapper = connection.execute_wrapper(count) if threads == 1 else contextlib.nullcontext()
    started = time.perf_counter()
    while True:
        with wrapper:
            summary = outbox_deliver(max_seconds=600)
        calls += 1
        delivered += summary.delivered
        if summary.failed or summary.dead_lettered:
            sys.exit(f"relay: {summary}")
        if not OutboxMessage.objects.exclude(status=MessageStatus.DELIVERED).exists():
            break
    return time.perf_counter() - started, delivered, calls


def post_signed(url: str, body: bytes) -> int:
    """What the relay's _post does, minus the database: sign now, POST with urllib."""
    from integration.erp import signing

    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.signature_header(body, [SECRET], timestamp),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read(2000)
        return answer.status


def run_bare(url: str, bodies: dict[str, list[bytes]], order: list[str], threads: int) -> float:
    """POST every body; one thread in `order` (stream of each message, enqueue order), or
    the streams shared out over `threads`, each stream in sequence."""
    failures: list[int] = []
    if threads == 1:
        cursors = {stream: iter(items) for stream, items in bodies.items()}
        started = time.perf_counter()
        for stream in order:
            status = post_signed(url, next(cursors[stream]))
            if status != 200:
                failures.append(status)
        seconds = time.perf_counter() - started
    else:
        streams = sorted(bodies)

        def lane(index: int) -> None:
            for stream in streams[index::threads]:
                for body in bodies[stream]:
                    status = post_signed(url, body)
                    if status != 200:
                        failures.append(status)

        workers = [threading.Thread(target=lane, args=(i,)) for i in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - started
    if failures:
        sys.exit(f"bare loop: {len(failures)} answers other than 200: {failures[:5]}")
    return seconds


def run_http_floor(simulator: Simulator, count: int) -> float:
    """The HTTP round trip alone: GET /healthz with urllib (no body, no signature, no record)."""
    started = time.perf_counter()
    for _ in range(count):
        with urllib.request.urlopen(simulator.url + "/healthz", timeout=30) as answer:
            answer.read()
    return time.perf_counter() - started


# --- Main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=50, help="work-order streams")
    parser.add_argument("--threads", type=int, default=4, help="MES_OUTBOX_THREADS")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument(
        "--erp-db-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the simulator keeps its SQLite record (default: tmpfs, so that the "
        "simulator's three fsyncs per message do not hide what the MES side costs)",
    )
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("--database-url must be PostgreSQL (threads need it)")
    database_name(url)
    var_dir = Path(tempfile.mkdtemp(prefix="mes_bench_outbox_"))
    port = free_port()
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="mesproject.settings.base",
        MES_VAR_DIR=str(var_dir),
        MES_ERP_ENDPOINT_URL=f"http://127.0.0.1:{port}/api/messages",
        MES_ERP_SIGNING_SECRETS=SECRET,
        MES_OUTBOX_THREADS=str(args.threads),
    )
    simulator = None
    try:
        recreate_database(url)
        erp_dir = Path(tempfile.mkdtemp(prefix="mes_bench_erp_", dir=args.erp_db_dir))
        simulator = Simulator(port, erp_dir / "erp.sqlite3", dict(os.environ))
        run(args, simulator)
    finally:
        if simulator is not None:
            simulator.stop()
            shutil.rmtree(erp_dir, ignore_errors=True)
        forget_nudges(args.redis_url)
        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, simulator: Simulator) -> None:
    import django

    t0 = time.perf_counter()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - t0
    from integration.erp.services.relay import message_body
    from integration.models import OutboxMessage

    enqueue_seconds = enqueue(args.messages, args.orders)
    rows = list(OutboxMessage.objects.order_by("id"))
    expected: dict[str, list[str]] = {}
    for message in sorted(rows, key=lambda m: (m.stream, m.sequence)):
        expected.setdefault(message.stream, []).append(str(message.transaction_uuid))
    order = [m.stream for m in rows]  # enqueue order: round-robin, each stream in sequence
    bodies: dict[str, list[bytes]] = {}
    for message in sorted(rows, key=lambda m: (m.stream, m.sequence)):
        bodies.setdefault(message.stream, []).append(message_body(message))
    total = len(rows)
    versions = postgres_version()

    results: dict[str, float] = {}
    problems: dict[str, list[str]] = {}
    calls: dict[str, int] = {}
    statements: list[int] = []
    threads = args.threads
    labels = [
        f"relay, MES_OUTBOX_THREADS={threads}",
        "bare urllib loop, 1 thread",
        "relay, MES_OUTBOX_THREADS=1",
        f"bare urllib, {threads} threads",
    ]
    load_before = os.getloadavg()[0]
    for label in labels:
        simulator.reset()
        if label.startswith("relay"):
            make_pending()
            seconds, delivered, calls[label] = run_relay(int(label.rsplit("=", 1)[1]), statements)
            found = check_record(simulator, expected)
            if delivered != total:
                found.append(f"relay delivered {delivered} of {total}")
        else:
            n = 1 if "1 thread" in label else threads
            seconds = run_bare(simulator.messages_url, bodies, order, n)
            found = check_record(simulator, expected)
        results[label] = seconds
        problems[label] = found
    floor_seconds = run_http_floor(simulator, total)
    load_after = os.getloadavg()[0]

    print(
        f"{versions}; {machine()}; {total:,} messages across {args.orders} work orders; "
        f"ERP simulator (ThreadingHTTPServer + SQLite in {args.erp_db_dir or 'a temp dir'}) "
        f"on loopback; code {code_version()}"
    )
    print(
        f"setup (migrate, not timed): {migrate_seconds:.1f} s; enqueue through outbox_enqueue: "
        f"{total / enqueue_seconds:,.0f} messages/s ({enqueue_seconds:.1f} s, one transaction "
        f"each); load average {load_before:.1f} -> {load_after:.1f} during the runs"
    )
    print()
    print(
        f"{'delivery of every message, exactly once, in order per order':<48} "
        f"{'msg/s':>8} {'seconds':>8} {'ms/msg':>7}"
    )
    for label in labels:
        seconds = results[label]
        extra = f"  ({calls[label]} outbox_deliver calls)" if label in calls else ""
        print(
            f"    {label:<44} {total / seconds:>8.0f} {seconds:>8.2f} "
            f"{seconds / total * 1e3:>7.2f}{extra}"
        )
    print(
        f"    {'(reference: GET /healthz, HTTP alone)':<44} {total / floor_seconds:>8.0f} "
        f"{floor_seconds:>8.2f} {floor_seconds / total * 1e3:>7.2f}"
    )
    relay, bare = results[labels[0]], results[labels[1]]
    relay1, bare_n = results[labels[2]], results[labels[3]]
    print()
    print("ratios, measured side by side in this run (time per message):")
    print(f"    relay {threads} threads : bare loop 1 thread     {relay / bare:5.2f} : 1")
    print(f"    relay {threads} threads : bare {threads} threads        {relay / bare_n:5.2f} : 1")
    print(f"    relay 1 thread  : bare loop 1 thread     {relay1 / bare:5.2f} : 1")
    print(f"    relay 1 thread  : relay {threads} threads        {relay1 / relay:5.2f} : 1")
    print(
        f"SQL statements per message (relay, 1 thread): {len(statements) / total:.1f} "
        "+ 1 COMMIT (claim FOR UPDATE SKIP LOCKED, held-by-earlier check, update; heads query "
        "shared by a batch)"
    )
    print()
    bad = {label: found for label, found in problems.items() if found}
    print(
        "checks (simulator record after each run: exactly once by transaction_uuid, order "
        f"per work order, no refused signature): {'OK' if not bad else 'PROBLEMS'}"
    )
    for label, found in bad.items():
        for line in found:
            print(f"    {label}: {line}")
    figures = {
        "bench": "outbox_delivery",
        "code": code_version(),
        "messages": total,
        "orders": args.orders,
        "threads": threads,
        "enqueue_per_s": round(total / enqueue_seconds, 1),
        "delivered_per_s": {label: round(total / s, 1) for label, s in results.items()},
        "ratio_relay_to_bare": round(relay / bare, 2),
        "ratio_relay_to_bare_threads": round(relay / bare_n, 2),
        "ratio_relay1_to_bare": round(relay1 / bare, 2),
        "statements_per_message": round(len(statements) / total, 2),
        "ok": not bad,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
