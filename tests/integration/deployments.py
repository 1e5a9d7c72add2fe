"""Two real deployments for the hub / scale unit tests.

The hub is this test process: its test database, served over HTTP on loopback by a server
thread that can be stopped and started again on the same port (the link cut and restored).
The scale unit is a separate Django deployment: its own database (PostgreSQL when the suite
runs on it, else an SQLite file), its own gunicorn serving the floor's API, and its own
management commands (sync_hub: the job beat runs there), all separate processes started
with MES_ROLE=scale_unit.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connection
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

ROOT = Path(__file__).resolve().parents[2]
SU_PASSWORD = "su-test-password-2026"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _ReusableServerThread(LiveServerThread):
    def _create_server(self, connections_override=None):
        # Restarted on the same port right after a stop: the port may be in TIME_WAIT.
        return self.server_class(
            (self.host, self.port),
            QuietWSGIRequestHandler,
            allow_reuse_address=True,
            connections_override=connections_override,
        )


class HubServer:
    """This process's Django, served on a fixed loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.thread: _ReusableServerThread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        thread = _ReusableServerThread("127.0.0.1", StaticFilesHandler, port=self.port)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        self.thread = thread

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.terminate()
            self.thread = None


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


class ScaleUnitDeployment:
    """A scale unit: its database, its web server and its commands, in other processes."""

    def __init__(self, *, code: str, hub_url: str, token: str, workdir: Path, template) -> None:
        self.code = code
        self.workdir = workdir
        self.port = free_port()
        self.database_url = template.new_database(workdir)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mesproject.settings.base",
            "MES_ROLE": "scale_unit",
            "MES_SCALE_UNIT_ID": code,
            "MES_HUB_URL": hub_url,
            "MES_HUB_TOKEN": token,
            "MES_HUB_TIMEOUT_SECONDS": "60",
            "DATABASE_URL": self.database_url,
            "MES_VAR_DIR": str(workdir / "var"),
            "MES_PROCESSOR_NUDGE": "0",
            # The floor tests play a fixed day in the past (tests/execution/floor.py).
            "MES_REGISTRATION_BACKDATING_HOURS": "0",
        }
        # Its own queue and cache (files), nothing shared with the hub's Redis.
        self.env.pop("REDIS_URL", None)
        self.web: subprocess.Popen | None = None
        self.token = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done.stdout + done.stderr

    def start(self) -> None:
        """Roles and a local operator account with a token, then the web server."""
        script = (
            "from django.contrib.auth import get_user_model;"
            "from django.contrib.auth.models import Group;"
            "from rest_framework.authtoken.models import Token;"
            "from mesproject.workplace.roles import roles_ensure;"
            "g = roles_ensure();"
            "u = get_user_model().objects.create_user('line-supervisor', password="
            f"'{SU_PASSWORD}');"
            "u.groups.add(g['supervisor']);"
            "print(Token.objects.create(user=u).key)"
        )
        self.token = self.manage("shell", "-c", script).strip().splitlines()[-1]
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "mesproject.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2)
                return
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.3)
        raise AssertionError("the scale unit's web server did not start")

    def stop(self) -> None:
        if self.web is not None:
            self.web.terminate()
            self.web.wait(timeout=30)
            self.web = None

    def sync(self) -> str:
        return self.manage("sync_hub")

    def start_worker_and_beat(self, seconds: int = 1) -> subprocess.Popen:
        """The scale unit's own Celery worker with its beat (its filesystem broker): syncs
        with the hub and processes registrations every `seconds`."""
        env = {
            **self.env,
            "MES_HUB_SYNC_SECONDS": str(seconds),
            "MES_PROCESSOR_INTERVAL_SECONDS": str(seconds),
        }
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mesproject",
                "worker",
                "--beat",
                "--pool=solo",
                "--loglevel=WARNING",
                "--schedule",
                str(self.workdir / "beat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    def post(self, path: str, body, *, headers: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def query(self, sql: str) -> list[tuple]:
        """Read the scale unit's own database (what its pages and terminals see)."""
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(urlparse(self.database_url).path) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql).fetchall()

    def drop(self) -> None:
        self.stop()
        if self.database_url.startswith("postgres"):
            import psycopg
            from psycopg import sql

            name = urlparse(self.database_url).path.lstrip("/")
            with psycopg.connect(_admin_url(self.database_url), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


class ScaleUnitTemplate:
    """A migrated, empty scale-unit database, copied for each test (migrating takes long)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.count = 0
        self.vendor = connection.vendor
        if self.vendor == "postgresql":
            hub = settings.DATABASES["default"]
            self.base = (
                f"postgres://{hub['USER'] or 'postgres'}@{hub['HOST'] or '127.0.0.1'}:"
                f"{hub['PORT'] or 5432}"
            )
            self.name = f"test_mes_su_template_{os.getpid()}"
            self._recreate(self.name)
            self.url = f"{self.base}/{self.name}"
        else:
            self.url = f"sqlite:///{workdir / 'su-template.sqlite3'}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mesproject.settings.base",
            "DATABASE_URL": self.url,
            "MES_VAR_DIR": str(workdir / "var-template"),
        }
        env.pop("REDIS_URL", None)
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr

    def _recreate(self, name: str, template: str | None = None) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(f"{self.base}/postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(create)

    def new_database(self, workdir: Path) -> str:
        self.count += 1
        if self.vendor == "postgresql":
            name = f"test_mes_su_{os.getpid()}_{self.count}"
            self._recreate(name, template=self.name)
            return f"{self.base}/{name}"
        path = workdir / f"su-{self.count}.sqlite3"
        shutil.copy(self.workdir / "su-template.sqlite3", path)
        return f"sqlite:///{path}"

    def drop(self) -> None:
        if self.vendor == "postgresql":
            import psycopg
            from psycopg import sql

            with psycopg.connect(f"{self.base}/postgres", autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.name)
                    )
                )
