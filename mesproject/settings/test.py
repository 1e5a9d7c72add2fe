"""Test mode: base settings, fast hashing. DATABASE_URL / REDIS_URL still apply.

On SQLite the test database is a file (one per test process), so that the real worker
processes some tests start can open the same database.
"""

import os

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

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
