"""The in-process sample: whole lanes processed here, with the statements and the time they
take (StatementTimer, timed_commits).
"""

from __future__ import annotations

import inspect
import random
import re
import time
from collections import Counter, defaultdict
from contextlib import contextmanager, nullcontext

from .shifts import Post

TABLE_RE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?([A-Za-z0-9_]+)"?', re.IGNORECASE)


def statement_label(sql: str) -> str:
    text = " ".join(sql.split())
    upper = text[:60].upper()
    for prefix in ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"):
        if upper.startswith(prefix):
            return prefix
    if "PG_TRY_ADVISORY" in upper:
        return "SELECT advisory lock"
    verb = upper.split(" ", 1)[0]
    if verb == "SELECT" and "FOR UPDATE" in text.upper():
        verb = "SELECT FOR UPDATE"
    match = TABLE_RE.search(text)
    return f"{verb} {match.group(1) if match else '?'}"


class StatementTimer:
    """A Django execute_wrapper: statements and database time per label and per registration."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.count = defaultdict(int)
        self.current = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            label = statement_label(sql)
            self.seconds[label] += time.perf_counter() - started
            self.count[label] += 1
            self.current += 1


@contextmanager
def timed_commits(connection, sink: dict):
    """Time COMMITs (they do not go through execute wrappers)."""
    original = connection._commit

    def commit():
        started = time.perf_counter()
        try:
            return original()
        finally:
            sink["commit"] += time.perf_counter() - started
            sink["commits"] += 1

    connection._commit = commit
    try:
        yield
    finally:
        connection._commit = original


def sample_lanes(
    posts: list[Post], count: int, rng: random.Random, exclude: set[str] = frozenset()
) -> list[str]:
    """Whole lanes: some orders and some workers' attendance, about `count` registrations."""
    order_rows, worker_rows = Counter(), Counter()
    for post in posts:
        if post.kind in ("bundle",):
            for job in post.jobs:
                order_rows[job.order.pk] += 1
        elif post.job is not None:
            order_rows[post.job.order.pk] += 1
        elif post.order is not None:
            order_rows[post.order.pk] += 1
        else:
            worker_rows[post.worker.pk] += 1
    share = sum(worker_rows.values()) / max(1, sum(order_rows.values()) + sum(worker_rows.values()))
    lanes, rows = [], 0
    order_ids = [o for o in order_rows if f"order:{o}" not in exclude]
    worker_ids = [w for w in worker_rows if f"worker:{w}" not in exclude]
    rng.shuffle(order_ids)
    rng.shuffle(worker_ids)
    attendance = 0
    while rows < count and (order_ids or worker_ids):
        if worker_ids and (attendance < share * (rows + 1) or not order_ids):
            worker = worker_ids.pop()
            lanes.append(f"worker:{worker}")
            rows += worker_rows[worker]
            attendance += worker_rows[worker]
        else:
            order = order_ids.pop()
            lanes.append(f"order:{order}")
            rows += order_rows[order]
    return lanes


def process_sample(lanes: list[str], *, timer: StatementTimer | None = None) -> dict:
    """Process every registration of the lanes in-process, in event-time order."""
    from django.db import connection

    from execution.choices import ProcessingOutcome, RegistrationStatus
    from execution.models import RawRegistration
    from execution.services.processing import registration_process_one

    todo = list(
        RawRegistration.objects.filter(lane__in=lanes, status=RegistrationStatus.NEW)
        .order_by("occurred_at", "pk")
        .values_list("pk", "kind", "lane")
    )
    # registrations_process hands the lane over (no lookup); do the same where it can.
    takes_lane = "lane" in inspect.signature(registration_process_one).parameters
    per_kind = defaultdict(lambda: {"count": 0, "statements": 0, "seconds": 0.0})
    outcomes = Counter()
    commits = defaultdict(float)
    started = time.perf_counter()
    with (
        connection.execute_wrapper(timer) if timer else nullcontext(),
        timed_commits(connection, commits),
    ):
        for pk, kind, lane in todo:
            if timer:
                timer.current = 0
            t0 = time.perf_counter()
            if takes_lane:
                outcome = registration_process_one(pk=pk, lane=lane)
            else:
                outcome = registration_process_one(pk=pk)
            elapsed = time.perf_counter() - t0
            outcomes[outcome] += 1
            entry = per_kind[kind]
            entry["count"] += 1
            entry["seconds"] += elapsed
            if timer:
                entry["statements"] += timer.current
    seconds = time.perf_counter() - started
    if outcomes.get(ProcessingOutcome.PROCESSED, 0) != len(todo):
        print(f"    sample outcomes: {dict(outcomes)}")
    return {"count": len(todo), "seconds": seconds, "per_kind": per_kind, "commits": commits}
