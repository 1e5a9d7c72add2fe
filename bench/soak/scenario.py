"""The soak's run: the load threads (erp.py, floor.py, the adversary), the faults on their
schedule, the monitor, then the bounded drain.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass

from .adversary import Adversary
from .client import Client, Record
from .config import (
    AT_ERP_DOWN,
    AT_GUNICORN,
    AT_KILL_WORKER,
    AT_REDIS,
    AT_REJECT,
    DEFAULT_SECONDS,
    WORKERS,
    log,
)
from .erp import ErpLoad, Replay
from .floor import FloorLoad
from .plant import Plant, resources_of
from .stack import Stack


@dataclass
class Window:
    name: str
    start: float
    end: float | None = None
    detail: str = ""
    wall_end: float = 0.0  # time.time() at the end, to compare with the logs


class Soak(ErpLoad, FloorLoad):
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
