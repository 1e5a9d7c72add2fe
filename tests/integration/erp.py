"""Drive the ERP simulator as a real process over loopback, the way the MES reaches the ERP.

Typical use, through the ``erp_simulator`` fixture or on its own:

    sim = ErpSimulator(tmp_path / "erp.sqlite3", secrets=["test-secret"]).start()
    sim.send({"transaction_uuid": "...", "message_type": "consumption", "stream": "wo-1", ...})
    sim.set_mode("fail", count=2)
    sim.wait_for_messages(3, stream="wo-1")
    sim.stop()
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from integration.erp.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Response:
    status: int
    body: dict


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ErpSimulator:
    """One simulator process. The port is chosen once, so a restart keeps the same URL (a
    worker configured with it keeps delivering), and the db file keeps the records."""

    def __init__(
        self,
        db_path: str | Path,
        secrets: list[str] | tuple[str, ...] = ("test-secret",),
        host: str = "127.0.0.1",
        port: int | None = None,
    ):
        self.db_path = Path(db_path)
        self.secrets = list(secrets)
        self.host = host
        self.port = port or free_port(host)
        self.log_path = self.db_path.with_suffix(".log")
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def messages_url(self) -> str:
        """Where the MES posts its messages."""
        return f"{self.url}/api/messages"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> "ErpSimulator":
        """Start the process and return once ``/healthz`` answers."""
        command = [sys.executable, "-m", "integration.demo.erp_simulator", "--quiet"]
        command += ["--host", self.host, "--port", str(self.port), "--db", str(self.db_path)]
        for secret in self.secrets:
            command += ["--secret", secret]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"ERP simulator exited:\n{self.log_path.read_text()}")
            try:
                if self.get("/healthz", timeout=1).status == 200:
                    return
            except (ConnectionError, URLError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"ERP simulator unhealthy after {timeout}s:\n{self.log_path.read_text()}"
        )

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> "ErpSimulator":
        self.stop()
        return self.start()

    def __enter__(self) -> "ErpSimulator":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # HTTP

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> Response:
        """Any request; error statuses are returned, not raised. A client timeout raises
        TimeoutError."""
        request = urllib.request.Request(
            self.url + path, data=body, headers=headers or {}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Response(response.status, json.loads(response.read()))
        except HTTPError as refused:
            with refused:
                return Response(refused.code, json.loads(refused.read()))

    def get(self, path: str, timeout: float = 5.0) -> Response:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, payload: dict, timeout: float = 5.0) -> Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        return self.request("POST", path, body, headers, timeout=timeout)

    def send(
        self,
        message: dict | bytes,
        *,
        secrets: list[str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
        timeout: float = 5.0,
    ) -> Response:
        """POST a message signed like the MES does: with ``secrets`` (default: the
        simulator's) at ``timestamp`` (default: now), unless ``signature`` is given as is."""
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        if signature is None:
            signature = signature_header(body, secrets or self.secrets, timestamp)
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature,
        }
        return self.request("POST", "/api/messages", body, headers, timeout=timeout)

    # Control

    def messages(self, stream: str | None = None) -> list[dict]:
        """Recorded messages in arrival order: transaction_uuid, message_type, stream,
        sequence, body (the whole message) and received_at."""
        query = "" if stream is None else "?" + urlencode({"stream": stream})
        return self.get("/control/messages" + query).body["messages"]

    def wait_for_messages(
        self, count: int, stream: str | None = None, timeout: float = 10.0
    ) -> list[dict]:
        """Poll until at least ``count`` messages are recorded (for asynchronous senders)."""
        deadline = time.monotonic() + timeout
        while len(messages := self.messages(stream)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        if len(messages) < count:
            raise AssertionError(f"{len(messages)} of {count} messages after {timeout}s")
        return messages

    def stats(self) -> dict[str, int]:
        return self.get("/control/stats").body

    def mode(self) -> dict:
        return self.get("/control/mode").body

    def set_mode(
        self,
        mode: str,
        *,
        seconds: float | None = None,
        count: int | None = None,
        match: dict[str, str] | None = None,
        delay: float | None = None,
    ) -> dict:
        """Switch mode (accept, fail, timeout, reject); back to accept after ``seconds`` or
        ``count`` refused messages. ``match`` limits it to messages with those fields."""
        options = {"mode": mode, "seconds": seconds, "count": count, "match": match, "delay": delay}
        payload = {key: value for key, value in options.items() if value is not None}
        response = self.post("/control/mode", payload)
        if response.status != 200:
            raise ValueError(response.body["message"])
        return response.body

    def reset(self) -> None:
        """Forget records, counters and mode."""
        self.post("/control/reset", {})
