"""The timed processors: child processes of bench/registrations.py (--child [--batch N]),
released at once; each reports its own CPU seconds, its PostgreSQL backend's (cost.py) and the
statements and COMMITs registrations_process sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

from _common import ROOT

from .cost import StatementCounter, backend_pid, process_cpu_seconds
from .sample import timed_commits


def child(batch: int | None = None) -> None:
    """One processor: set up, say ready, wait for go, process until nothing is left (batch:
    registrations_process's, its default when None)."""
    import django

    django.setup()
    from django.db import DatabaseError, connection

    from execution.choices import RegistrationStatus
    from execution.models import RawRegistration
    from execution.services.processing import registrations_process

    connection.ensure_connection()
    RawRegistration.objects.exists()
    backend = backend_pid(connection)
    options = {} if batch is None else {"batch": batch}
    counter, commits = StatementCounter(), Counter()
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu = time.perf_counter(), time.process_time()
    backend_cpu = process_cpu_seconds(backend)
    totals = Counter()
    errors: list[str] = []
    idle = 0
    while True:
        try:
            # Only what registrations_process sends is counted, not this loop's own polls.
            with connection.execute_wrapper(counter), timed_commits(connection, commits):
                summary = registrations_process(**options)
        except DatabaseError as exc:  # what Celery would retry; counted, reported
            totals["database_errors"] += 1
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        totals["calls"] += 1
        totals["processed"] += summary.processed
        totals["failed"] += summary.failed
        if summary.processed or summary.failed:
            idle = 0
            continue
        held = RawRegistration.objects.filter(status=RegistrationStatus.FAILED).values("lane")
        left = (
            RawRegistration.objects.filter(status=RegistrationStatus.NEW)
            .exclude(lane__in=held)
            .exists()
        )
        if not left:
            break
        idle += 1
        totals["idle_polls"] += 1
        if idle > 3000:  # 30 s without progress while work is left: give up, report
            errors.append("gave up: registrations left that no call could process")
            break
        time.sleep(0.01)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    backend_after = process_cpu_seconds(backend)
    # A reconnection (after a database error) left the backend measured: its CPU is unknown.
    same_backend = backend_pid(connection) == backend
    result = dict(totals)
    result.update(
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu, 3),
        backend_pid=backend,
        backend_cpu_seconds=round(backend_after - backend_cpu, 3)
        if same_backend and backend_cpu is not None and backend_after is not None
        else None,
        statements=counter.statements,
        commits=commits["commits"],
        batch=batch,
        errors=errors[:5],
    )
    print(json.dumps(result), flush=True)


def run_processors(count: int, env: dict, *, batch: int | None = None) -> tuple[float, list[dict]]:
    """Start `count` processors, release them at once, wait for all; wall seconds."""
    argv = [sys.executable, str(ROOT / "bench" / "registrations.py"), "--child"]
    if batch is not None:
        argv += ["--batch", str(batch)]
    children = [
        subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(ROOT),
        )
        for _ in range(count)
    ]
    for proc in children:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            sys.exit(f"a processor did not start: {line!r}")
    started = time.perf_counter()
    for proc in children:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate()[0] for proc in children]
    seconds = time.perf_counter() - started
    results = []
    for proc, output in zip(children, outputs, strict=True):
        lines = [line for line in output.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            sys.exit(f"a processor failed (exit {proc.returncode}): {output[-2000:]}")
        results.append(json.loads(lines[-1]))
    return seconds, results
