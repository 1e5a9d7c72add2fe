"""What the HTTP answers, the replays and the processes' logs must show."""

from __future__ import annotations

import re
import signal
from collections import Counter
from datetime import datetime
from pathlib import Path

from _common import percentile

from .client import Record
from .invariants import Check, in_windows
from .scenario import Soak
from .stack import Stack


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
