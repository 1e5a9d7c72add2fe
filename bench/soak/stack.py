"""The stack the soak runs: every child process in its own process group (Processes),
started, restarted and stopped by Stack.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import ROOT, free_port

from .config import BIN, SECRET


class Processes:
    """Every child in its own process group; stop_all ends them all (also on Ctrl-C)."""

    def __init__(self, log_dir: Path, env: dict) -> None:
        self.log_dir = log_dir
        self.env = env
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.lock = threading.Lock()

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        with (self.log_dir / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env or self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self.lock:
            self.started.append((name, process))
        return process

    @staticmethod
    def signal_group(process: subprocess.Popen, sig: int) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)

    def stop(self, process: subprocess.Popen, timeout: float = 20) -> None:
        self.signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self) -> None:
        with self.lock:
            alive = [p for _, p in self.started if p.poll() is None]
        for process in alive:
            self.signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in alive:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.signal_group(process, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)


def wait_http(port: int, path: str, process: subprocess.Popen, what: str, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {path} within {timeout} s")


class Stack:
    def __init__(self, procs: Processes, var_dir: Path) -> None:
        self.procs = procs
        self.var_dir = var_dir
        self.redis_port = free_port()
        self.erp_port = free_port()
        self.web_port = free_port()
        self.erp_db = var_dir / "erp-simulator.sqlite3"
        self.redis: subprocess.Popen | None = None
        self.erp: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.worker_names: dict[str, subprocess.Popen] = {}
        self.worker_count = 0
        self.web_count = 0

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_redis(self) -> None:
        import redis

        self.redis = self.procs.start(
            "redis",
            [
                *("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
        )
        client = redis.Redis(host="127.0.0.1", port=self.redis_port, socket_timeout=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def start_erp(self) -> None:
        self.erp = self.procs.start(
            "erp-simulator",
            [
                *(sys.executable, "-m", "integration.demo.erp_simulator"),
                *("--port", str(self.erp_port), "--secret", SECRET),
                *("--db", str(self.erp_db), "--quiet"),
            ],
        )
        wait_http(self.erp_port, "/healthz", self.erp, "the ERP simulator")

    def start_web(self) -> None:
        self.web_count += 1
        self.web = self.procs.start(
            f"gunicorn-{self.web_count}",
            [
                str(BIN / "gunicorn"),
                "mesproject.wsgi",
                *("--workers", "3", "--bind", f"127.0.0.1:{self.web_port}"),
                *("--chdir", str(ROOT), "--timeout", "60", "--graceful-timeout", "20"),
                *("--log-level", "warning"),
            ],
        )
        wait_http(self.web_port, "/healthz", self.web, "gunicorn")

    def start_worker(self) -> subprocess.Popen:
        self.worker_count += 1
        worker = self.procs.start(
            f"celery-worker-{self.worker_count}",
            [
                *(str(BIN / "celery"), "-A", "mesproject", "worker", "--pool=solo"),
                *("-n", f"soak{self.worker_count}@%h", "--loglevel=INFO"),
            ],
        )
        self.workers.append(worker)
        self.worker_names[f"celery-worker-{self.worker_count}"] = worker
        return worker

    def start_beat(self) -> None:
        self.beat = self.procs.start(
            "celery-beat",
            [
                *(str(BIN / "celery"), "-A", "mesproject", "beat", "--loglevel=WARNING"),
                *("--schedule", str(self.var_dir / "celerybeat-schedule")),
                *("--pidfile", str(self.var_dir / "celerybeat.pid")),
            ],
        )

    def erp_control(self, path: str, body: dict | None = None) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.erp_port, timeout=30)
        try:
            if body is None:
                conn.request("GET", path)
            else:
                conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()
