"""A stand-alone ERP simulator that receives the MES outbox messages over signed HTTP.

Standard library only and no Django, so it runs beside the MES the way the real ERP does:
tests start it as a subprocess, restart it (records live in SQLite) and make it misbehave on
demand through ``/control/mode``.

    python -m integration.demo.erp_simulator --port 8765 --secret S [--secret S2] \\
        --db var/erp-simulator.sqlite3 [--host 127.0.0.1] [--quiet]
"""

import argparse
import json
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from integration.erp import signing

MODES = ("accept", "fail", "timeout", "reject")
MATCH_FIELDS = ("message_type", "stream")
# The columns records are indexed by: the uuid is required, the others are optional but typed.
INDEXED_FIELDS = {"transaction_uuid": str, "message_type": str, "stream": str, "sequence": int}
COUNTERS = (
    "accepted",
    "duplicates",
    "signature_missing",
    "bad_signature",
    "stale_timestamp",
    "replayed",
    "failed",
    "timed_out",
    "rejected",
    "invalid",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_uuid TEXT NOT NULL UNIQUE,
    message_type TEXT,
    stream TEXT,
    sequence INTEGER,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen_signatures (
    timestamp INTEGER NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (timestamp, signature)
);
"""


class Refusal(Exception):
    """A request the simulator answers with an error; ``counter`` is the stat it bumps."""

    def __init__(self, status: int, code: str, message: str, counter: str, delay: float = 0.0):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.counter = counter
        self.delay = delay


def error(code: str, message: str) -> dict:
    return {"code": code, "message": message}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message  # case-insensitive: clients spell header names as they like
    body: bytes


class Store:
    """Records, counters and seen signatures in one SQLite file, shared by request threads."""

    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(SCHEMA)

    def _execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._lock, self._db:
            return self._db.execute(sql, params)

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        # Fetch under the lock too: the connection is shared by all request threads.
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def bump(self, counter: str) -> None:
        self._execute(
            "INSERT INTO counters (name, value) VALUES (?, 1)"
            " ON CONFLICT (name) DO UPDATE SET value = value + 1",
            (counter,),
        )

    def remember_signature(self, timestamp: int, signature: str) -> bool:
        """False if this exact pair was seen before, i.e. the request is a replay."""
        with self._lock, self._db:
            # Pairs older than the allowed skew are refused as stale anyway: no need to keep them.
            horizon = int(time.time()) - signing.MAX_SKEW_SECONDS - 1
            self._db.execute("DELETE FROM seen_signatures WHERE timestamp < ?", (horizon,))
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO seen_signatures (timestamp, signature) VALUES (?, ?)",
                (timestamp, signature),
            )
        return cursor.rowcount == 1

    def record(self, message: dict) -> bool:
        """Record a new transaction; False (and counted as a duplicate) if already recorded."""
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        cursor = self._execute(
            "INSERT OR IGNORE INTO messages"
            " (transaction_uuid, message_type, stream, sequence, body, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                message["transaction_uuid"],
                message.get("message_type"),
                message.get("stream"),
                message.get("sequence"),
                json.dumps(message),
                received_at,
            ),
        )
        accepted = cursor.rowcount == 1
        self.bump("accepted" if accepted else "duplicates")
        return accepted

    def messages(self, stream: str | None = None) -> list[dict]:
        sql = "SELECT transaction_uuid, message_type, stream, sequence, body, received_at"
        sql += " FROM messages"
        params: tuple = ()
        if stream is not None:
            sql += " WHERE stream = ?"
            params = (stream,)
        rows = self._query(sql + " ORDER BY id", params)
        keys = ("transaction_uuid", "message_type", "stream", "sequence", "body", "received_at")
        return [{**dict(zip(keys, row, strict=True)), "body": json.loads(row[4])} for row in rows]

    def stats(self) -> dict[str, int]:
        counts = dict(self._query("SELECT name, value FROM counters"))
        return {name: counts.get(name, 0) for name in COUNTERS}

    def reset(self) -> None:
        with self._lock, self._db:
            for table in ("messages", "counters", "seen_signatures"):
                self._db.execute(f"DELETE FROM {table}")


@dataclass
class Mode:
    """How the simulator answers messages; ``until`` is a ``time.monotonic()`` deadline."""

    name: str = "accept"
    until: float | None = None
    remaining: int | None = None
    match: dict | None = None
    delay: float = 30.0

    def matches(self, message: dict) -> bool:
        return all(message.get(key) == value for key, value in (self.match or {}).items())

    def describe(self) -> dict:
        seconds_left = None
        if self.until is not None:
            seconds_left = round(max(0.0, self.until - time.monotonic()), 3)
        return {
            "mode": self.name,
            "seconds_left": seconds_left,
            "count_left": self.remaining,
            "match": self.match,
            "delay": self.delay,
        }


def _number(spec: dict, key: str, kind: type, default=None):
    """``spec[key]`` if it is a positive ``kind`` (bools excluded), else ValueError."""
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise ValueError(f"{key} must be a positive number")
    return value


def parse_mode(spec: object) -> Mode:
    """The Mode described by a ``POST /control/mode`` body; ValueError if it is malformed."""
    if not isinstance(spec, dict) or spec.get("mode") not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    match = spec.get("match")
    if match is not None and (
        not isinstance(match, dict) or not match or not set(match) <= set(MATCH_FIELDS)
    ):
        raise ValueError(f"match must be an object with keys among {', '.join(MATCH_FIELDS)}")
    seconds = _number(spec, "seconds", (int, float))
    return Mode(
        name=spec["mode"],
        until=None if seconds is None else time.monotonic() + seconds,
        remaining=_number(spec, "count", int),
        match=match,
        delay=float(_number(spec, "delay", (int, float), default=30.0)),
    )


class ModeSwitch:
    """The current mode, falling back to accept once its time or its count runs out."""

    def __init__(self):
        self._lock = threading.Lock()
        self._mode = Mode()

    def set(self, mode: Mode) -> None:
        with self._lock:
            self._mode = mode

    def current(self) -> Mode:
        with self._lock:
            return self._live()

    def _live(self) -> Mode:
        if self._mode.until is not None and time.monotonic() >= self._mode.until:
            self._mode = Mode()
        return self._mode

    def claim(self, message: dict) -> Mode | None:
        """The mode that refuses this message, if any; a refusal uses up one of ``count``."""
        with self._lock:
            mode = self._live()
            if mode.name == "accept" or not mode.matches(message):
                return None
            if mode.remaining is not None:
                mode.remaining -= 1
                if mode.remaining == 0:
                    self._mode = Mode()
            return mode


def refusal_for(mode: Mode) -> Refusal:
    if mode.name == "fail":
        return Refusal(503, "unavailable", "ERP unavailable (simulated)", "failed")
    if mode.name == "timeout":
        # Hold the connection past the client's timeout; a patient client then gets a 503.
        message = "ERP timed out (simulated)"
        return Refusal(503, "unavailable", message, "timed_out", delay=mode.delay)
    return Refusal(422, "rejected", "Part Number Not Found", "rejected")


def parse_message(body: bytes) -> dict:
    """The message in ``body``; a Refusal if it is not one we can record."""
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise Refusal(400, "invalid_message", "Body is not a JSON object", "invalid")
    wrong = [
        name
        for name, kind in INDEXED_FIELDS.items()
        if (name in message or name == "transaction_uuid") and type(message.get(name)) is not kind
    ]
    if wrong or not message["transaction_uuid"]:
        wrong_fields = ", ".join(wrong or ["transaction_uuid"])
        raise Refusal(400, "invalid_message", f"Missing or malformed: {wrong_fields}", "invalid")
    return message


def parse_timestamp(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Simulator:
    """The endpoints, independent of the HTTP plumbing: each takes a Request and returns
    ``(status, payload)``."""

    def __init__(self, secrets: list[str], store: Store):
        self.secrets = list(secrets)
        self.store = store
        self.modes = ModeSwitch()
        self.routes = {
            ("GET", "/healthz"): self.healthz,
            ("POST", "/api/messages"): self.receive,
            ("GET", "/control/mode"): self.get_mode,
            ("POST", "/control/mode"): self.set_mode,
            ("GET", "/control/messages"): self.list_messages,
            ("GET", "/control/stats"): self.stats,
            ("POST", "/control/reset"): self.reset,
        }

    def handle(self, request: Request) -> tuple[int, dict]:
        route = self.routes.get((request.method, request.path))
        if route is None:
            return 404, error("not_found", f"No route for {request.method} {request.path}")
        return route(request)

    def healthz(self, request: Request) -> tuple[int, dict]:
        return 200, {"status": "ok"}

    def receive(self, request: Request) -> tuple[int, dict]:
        try:
            self.authenticate(request)
            message = parse_message(request.body)
            mode = self.modes.claim(message)
            if mode is not None:
                raise refusal_for(mode)
        except Refusal as refusal:
            self.store.bump(refusal.counter)
            if refusal.delay:
                time.sleep(refusal.delay)
            return refusal.status, error(refusal.code, refusal.message)
        uuid = message["transaction_uuid"]
        if self.store.record(message):
            return 200, {"status": "accepted", "transaction_uuid": uuid}
        return 200, {"status": "duplicate", "result": "Success (Cached)", "transaction_uuid": uuid}

    def authenticate(self, request: Request) -> None:
        """Refuse unsigned, stale, forged and replayed requests, in that order."""
        timestamp = parse_timestamp(request.headers.get(signing.TIMESTAMP_HEADER))
        header = request.headers.get(signing.SIGNATURE_HEADER) or ""
        if timestamp is None or not signing.parse_signature_header(header):
            raise Refusal(
                401, "signature_missing", "Timestamp or signature missing", "signature_missing"
            )
        if abs(time.time() - timestamp) > signing.MAX_SKEW_SECONDS:
            raise Refusal(401, "stale_timestamp", "Timestamp too far from now", "stale_timestamp")
        if not signing.verify(request.body, header, self.secrets, timestamp):
            raise Refusal(401, "bad_signature", "Signature does not verify", "bad_signature")
        if not self.store.remember_signature(timestamp, header):
            raise Refusal(409, "replayed_request", "Request already received", "replayed")

    def get_mode(self, request: Request) -> tuple[int, dict]:
        return 200, self.modes.current().describe()

    def set_mode(self, request: Request) -> tuple[int, dict]:
        try:
            mode = parse_mode(json.loads(request.body or b"null"))
        except ValueError as exc:
            return 400, error("invalid_mode", str(exc))
        self.modes.set(mode)
        return 200, mode.describe()

    def list_messages(self, request: Request) -> tuple[int, dict]:
        stream = request.query.get("stream", [None])[0]
        return 200, {"messages": self.store.messages(stream)}

    def stats(self, request: Request) -> tuple[int, dict]:
        return 200, self.store.stats()

    def reset(self, request: Request) -> tuple[int, dict]:
        self.store.reset()
        self.modes.set(Mode())
        return 200, {"status": "reset"}


class Handler(BaseHTTPRequestHandler):
    server: "SimulatorServer"

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers=self.headers,
            body=self.rfile.read(length),
        )
        status, payload = self.server.simulator.handle(request)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        if not self.server.quiet:
            super().log_message(format, *args)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator, quiet: bool = False):
        self.simulator = simulator
        self.quiet = quiet
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # A client that gave up (timeout mode) is expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(host: str, port: int, secrets: list[str], db_path: str | Path, quiet: bool = False):
    """Serve until interrupted; records persist in ``db_path`` across restarts."""
    if not secrets:
        raise ValueError("at least one signing secret is required")
    server = SimulatorServer((host, port), Simulator(secrets, Store(db_path)), quiet=quiet)
    print(f"ERP simulator listening on http://{host}:{server.server_port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m integration.demo.erp_simulator",
        description="Receive signed MES outbox messages the way the ERP would.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--secret",
        dest="secrets",
        action="append",
        required=True,
        help="signing secret; repeat it to accept several during a rotation",
    )
    parser.add_argument("--db", default="var/erp-simulator.sqlite3", help="SQLite file of records")
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.secrets, args.db, quiet=args.quiet)


if __name__ == "__main__":
    main()
