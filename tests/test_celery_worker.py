"""A real Celery worker process (Redis in CI, the filesystem broker otherwise) runs our task
against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from integration.models import Heartbeat
from integration.tasks import record_heartbeat

ROOT = Path(__file__).resolve().parent.parent


def worker_env() -> dict:
    """The environment a worker needs to share this test run's database and broker."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "mesproject.settings.base"
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{name}"
    else:
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
        )
    env["MES_CELERY_QUEUE_DIR"] = str(settings.CELERY_QUEUE_DIR)
    return env


def start_worker(*extra: str, env: dict | None = None) -> subprocess.Popen:
    """A worker process; env adds settings from the environment (e.g. the ERP endpoint)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mesproject",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            *extra,
        ],
        cwd=ROOT,
        env={**worker_env(), **(env or {})},
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat_task():
    worker = start_worker()
    try:
        record_heartbeat.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not Heartbeat.objects.filter(name="worker").exists():
            time.sleep(0.3)
        beat = Heartbeat.objects.get(name="worker")
        assert beat.count == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
