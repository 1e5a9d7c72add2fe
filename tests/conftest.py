"""Suite-wide fixtures and the fail-fast check on the real services.

When DATABASE_URL or REDIS_URL is set (as .ci/run does), the service must answer: the
suite stops with an error instead of skipping what it was asked to prove.
"""

import os
import socket
from urllib.parse import urlparse

import pytest


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    try:
        with socket.create_connection((host, parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    checks = [("DATABASE_URL", 5432), ("REDIS_URL", 6379)]
    for name, port in checks:
        url = os.environ.get(name)
        if url and url.startswith(("postgres", "redis")) and not _reachable(url, port):
            raise pytest.UsageError(f"{name} is set to {url} but nothing answers there.")


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
