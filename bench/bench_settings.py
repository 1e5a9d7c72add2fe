"""Settings of the HTTP benches: the product's base settings with a URLconf that adds
bench-only endpoints (bench_urls). Never used by the product.

gunicorn finds it with ``--pythonpath <checkout>/bench`` and
``DJANGO_SETTINGS_MODULE=bench_settings``; the environment (DATABASE_URL, REDIS_URL, ...)
is read exactly as in mesproject.settings.base.
"""

from mesproject.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
