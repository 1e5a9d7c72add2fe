"""Test mode: base settings, fast hashing. DATABASE_URL / REDIS_URL still apply.

On SQLite the test database is a file (one per test process), so that the real worker
processes some tests start can open the same database.
"""

import os
import re

# pytest-xdist runs the suite in one process per core (at most 4): each gets its own Redis
# database (Celery queues, cache, locks), so one worker's Celery processes never take
# another's tasks. Set in the environment before base.py reads it, so the processes a test
# starts inherit it; the marker keeps those from moving it again.
_worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
_redis = re.fullmatch(r"(redis://[^/]*)(?:/(\d+))?", os.environ.get("REDIS_URL", ""))
if _worker and not os.environ.get("MES_TEST_WORKER_SERVICES"):
    os.environ["MES_TEST_WORKER_SERVICES"] = "1"
    if _redis:
        _db = int(_redis.group(2) or 0) + 1 + int(_worker.group(1))
        os.environ["REDIS_URL"] = f"{_redis.group(1)}/{_db}"
    elif not os.environ.get("MES_CELERY_QUEUE_DIR"):
        # Embedded (no Redis): each worker its own filesystem broker folder.
        _var = os.environ.get("MES_VAR_DIR") or os.path.join(os.getcwd(), "var")
        os.environ["MES_CELERY_QUEUE_DIR"] = os.path.join(_var, f"celery-{_worker.group(0)}")

from .base import *  # noqa: E402, F403
from .base import DATABASES, VAR_DIR  # noqa: E402

# The floor tests play a fixed day in the past (tests/execution/floor.py); the tests of the
# backdating window set it themselves.
MES_REGISTRATION_BACKDATING_HOURS = 0

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite calls the API from one address, many times a minute, and user ids repeat across
# runs sharing one Redis: no role's budget is reached here. tests/test_login_throttling.py
# sets low rates to prove the throttle; django-axes stays on at its production limit.
MES_API_THROTTLE_RATES = {role: "1000000/min" for role in MES_API_THROTTLE_RATES}  # noqa: F405
DEBUG = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
