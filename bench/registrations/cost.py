"""What a processing run costs, not only how fast it goes: CPU seconds of the processor and of
the PostgreSQL backend serving it (from /proc: PostgreSQL runs on this machine), and the SQL
statements and COMMITs it sends.
"""

from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), or None if /proc does not show it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name in parentheses may hold spaces: count the fields after its ')'.
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backend_pid(connection) -> int:
    """The PostgreSQL backend serving a Django connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class StatementCounter:
    """A Django execute_wrapper that only counts: cheap enough for the timed runs."""

    def __init__(self):
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def cost_figures(children: list[dict], registrations: int, seconds: float) -> dict:
    """Per 1,000 registrations: CPU seconds of the processors and their backends; statements
    and COMMITs per registration, summed over the processor processes of one run."""
    worker = sum(c["cpu_seconds"] for c in children)
    backends = [c.get("backend_cpu_seconds") for c in children]
    backend = None if None in backends else sum(backends)
    per = 1000 / registrations
    cpu = worker + (backend or 0)
    return {
        "wall_s_per_1000": round(seconds * per, 2),
        "worker_cpu_s_per_1000": round(worker * per, 3),
        "backend_cpu_s_per_1000": None if backend is None else round(backend * per, 3),
        # CPU seconds per wall second: how many of the machine's cores the run kept busy.
        "cores_busy": round(cpu / seconds, 2),
        # The rate the processor and its backends would reach if CPU were all they waited on
        # and had every core of this machine to themselves.
        "cpu_bound_ceiling_per_s": round(os.cpu_count() * registrations / cpu, 1) if cpu else None,
        "statements_per_registration": round(
            sum(c.get("statements", 0) for c in children) / registrations, 1
        ),
        "commits_per_registration": round(
            sum(c.get("commits", 0) for c in children) / registrations, 2
        ),
    }


def print_costs(runs: list[tuple[str, dict]], registrations: int, *, bare: dict) -> None:
    """The cost table: one line per timed run (each entry with its "cost" from cost_figures)."""

    def cpu(value):
        return "      -" if value is None else f"{value:7.2f}"

    print()
    print(
        f"cost per 1,000 registrations (CPU seconds from /proc, {os.cpu_count()} cores; "
        "backend: the PostgreSQL backend(s) of the processor(s)):"
    )
    print(
        f"    {'run':<24} {'reg/s':>7} {'wall s':>7} {'worker':>7} {'backend':>7} "
        f"{'cpu s':>7} {'cores':>6} {'ceiling/s':>10} {'SQL/reg':>8} {'COMMIT':>7}"
    )
    for label, entry in runs:
        c = entry["cost"]
        total = c["worker_cpu_s_per_1000"] + (c["backend_cpu_s_per_1000"] or 0)
        ceiling = c["cpu_bound_ceiling_per_s"]
        print(
            f"    {label:<24} {registrations / entry['seconds']:7.1f} "
            f"{c['wall_s_per_1000']:7.2f} {cpu(c['worker_cpu_s_per_1000'])} "
            f"{cpu(c['backend_cpu_s_per_1000'])} {cpu(total)} {c['cores_busy']:6.2f} "
            f"{'-' if ceiling is None else f'{ceiling:,.0f}':>10} "
            f"{c['statements_per_registration']:8.1f} {c['commits_per_registration']:7.2f}"
        )
    print(
        f"    {'bare INSERT (baseline)':<24} {1000 / bare['seconds']:7.0f} {bare['seconds']:7.2f} "
        f"{cpu(bare['client'])} {cpu(bare['backend'])} {cpu(bare['client'] + bare['backend'])}"
    )
    print(
        "    (worker: the processor process, utime+stime; cores: CPU seconds per wall second; "
        "ceiling: the rate if CPU were all it waited on, every core its own)"
    )
