"""`make run` on the embedded default serves the admin and really runs worker and beat."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


@pytest.mark.slow
def test_make_run_serves_the_admin_login_and_runs_background_jobs(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    # Its own ports: another `make run` (or its ERP simulator) may be up on this machine.
    env.update(
        PORT=str(port),
        ERP_PORT=str(free_port()),
        MES_VAR_DIR=str(tmp_path),
        MES_HEARTBEAT_SECONDS="2",
    )
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        login, health = None, {}
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                login = fetch(f"{base}/admin/login/")
                health = json.loads(fetch(f"{base}/healthz")[1])
            except OSError:
                time.sleep(1)
                continue
            if health.get("worker_beats", 0) >= 2:
                break
            time.sleep(1)
        assert login is not None, (tmp_path / "run.log").read_text()
        assert login[0] == 200 and "Username" in login[1]
        assert health["database"] == "sqlite"
        # Assets are served locally by the app itself (plants run without internet).
        assert fetch(f"{base}/static/admin/css/base.css")[0] == 200
        assert fetch(f"{base}/static/vendor/htmx/htmx-2.0.11.min.js")[0] == 200
        # The pages' sign-in, where `make run` sends people first.
        sign_in = fetch(f"{base}/accounts/login/")
        assert sign_in[0] == 200 and "Sign in" in sign_in[1]
        # Two beats: beat scheduled the task twice and the worker wrote it through the
        # filesystem broker, no server involved.
        assert health["worker_beats"] >= 2, (tmp_path / "run.log").read_text()
        assert "Demo plant created" in (tmp_path / "run.log").read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
