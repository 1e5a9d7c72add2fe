"""What the HTTP and outbox benches share: their own PostgreSQL database (dropped and created
again every run), free ports, percentiles, the code version and the machine's state."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import timeit
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"

# The benches and the soak drive the API far above one plant's rate through a few tokens: the
# per-role throttle (docs/integration.md, MES_API_THROTTLE_RATES) would measure itself. Raised
# here for this process and every server and worker it starts, unless set already.
for _role in ("ANON", "USER", "TERMINAL", "OPERATOR", "ERP", "SCALE_UNIT"):
    os.environ.setdefault(f"MES_THROTTLE_{_role}", "10000000/min")


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name.startswith("mes_bench"):
        sys.exit(f"refusing to drop {name!r}: the bench database name must start with mes_bench")
    return name


def recreate_database(url: str) -> None:
    """Drop the bench database (closing its connections) and create it empty."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of unsorted values (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def code_version() -> str:
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--"], check=False).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}"


def machine() -> str:
    python_us = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    return (
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}, "
        f"Python sum(range(1000)) {python_us:.0f} us)"
    )


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    return f"PostgreSQL {server}, synchronous_commit={sync}"


def forget_nudges(redis_url: str) -> None:
    """Seeding and enqueueing nudge the processor and the relay (Celery tasks queued in the
    bench's Redis db, where no worker listens): drop them with the debounce keys."""
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(redis_url).delete(
            "celery", "integration:relay-nudged", "execution:processor-nudged"
        )
