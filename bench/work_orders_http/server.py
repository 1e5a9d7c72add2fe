"""gunicorn with the bench settings (bench/bench_settings.py, bench/bench_urls.py)."""

import http.client
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import BENCH_DIR, ROOT


def start_gunicorn(workers: int, port: int, env: dict, log_path: Path) -> subprocess.Popen:
    executable = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(executable if executable.exists() else shutil.which("gunicorn")),
        "mesproject.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        "--pythonpath",
        str(BENCH_DIR),
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit(f"gunicorn did not answer /healthz:\n{log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
