"""The load: C threads post bare inserts, keyed bare inserts and work-order creates (some of
them replays), and what each answered.
"""

import http.client
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

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
