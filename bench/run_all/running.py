"""Running one bench: its command, a subprocess in its own process group, its log, the JSON
line it prints last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import BENCH_DIR, ROOT

from .benches import NO_REDIS_ARGUMENT, POSTGRES, REDIS, Bench


def command(bench: Bench, quick: bool) -> tuple[list[str], dict]:
    url = f"{POSTGRES}/{bench.database}"
    args = list(bench.quick if quick else bench.full)
    env = {**os.environ, **bench.env, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if bench.url_argument:
        args += ["--database-url", url]
        if bench.name not in NO_REDIS_ARGUMENT:
            args += ["--redis-url", REDIS]
    else:
        env["DATABASE_URL"] = url
    return [sys.executable, str(BENCH_DIR / bench.script), *args], env


def last_json(text: str) -> dict | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the bench's process group, SIGKILL if it is still there 10 s later."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def run_bench(bench: Bench, quick: bool, log_dir: Path, timeout: float) -> dict:
    argv, env = command(bench, quick)
    log_path = log_dir / f"{bench.name}.log"
    shown = " ".join(Path(a).name if a == argv[1] else a for a in argv[1:])
    print(f"--> {bench.name}: {shown}", flush=True)
    started = time.perf_counter()
    error = None
    captured: list[str] = []
    with log_path.open("w") as log:
        log.write(f"$ {' '.join(argv)}\n\n")
        log.flush()
        # Its own session: on a timeout or Ctrl-C the bench and what it started (gunicorn,
        # the simulator, processor children) are stopped together, by process group.
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                captured.append(line)
                log.write(line)
                log.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            returncode = process.wait()
            error = f"killed after {timeout:.0f} s"
        except KeyboardInterrupt:
            stop_group(process)
            raise
        reader.join(timeout=10)
    seconds = time.perf_counter() - started
    text = "".join(captured)
    figures = last_json(text)
    if error is None and returncode != 0:
        error = f"exit code {returncode}"
    if error is None and figures is None:
        error = "no JSON line in its output"
    if error is None and figures.get("ok") is False:
        error = "its checks failed (ok: false)"
    state = "OK" if error is None else f"FAILED ({error})"
    print(f"    {state} in {seconds:.0f} s; log {log_path.relative_to(ROOT)}", flush=True)
    if error is not None:
        tail = "".join(captured[-25:])
        print("    " + tail.replace("\n", "\n    ").rstrip(), flush=True)
    return {
        "command": shown,
        "returncode": returncode,
        "seconds": round(seconds, 1),
        "error": error,
        "figures": figures,
        "log": str(log_path.relative_to(ROOT)),
    }
