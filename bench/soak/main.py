"""The soak's command line and its run: start the stack, seed, load, drain, check, report."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from _common import code_version, database_name, recreate_database

from .adversary_checks import adversary_checks, flow_checks
from .answers import check_http, check_replays, check_workers, scan_logs
from .client import Record
from .config import CI_SECONDS, DEFAULT_SECONDS, DEFAULT_URL, SECRET, log
from .invariants import Check, check_inventory, check_orders, check_outbox, check_registrations
from .plant import seed
from .report import report
from .scenario import Soak
from .stack import Processes, Stack


def main() -> int:
    # The first paragraph of the package's docstring, which says what the soak does.
    description = sys.modules[__package__].__doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(description=description)
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
