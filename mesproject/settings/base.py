"""Settings shared by every mode. Values come from the environment through settings.env."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("MES_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "mesproject",
    "inventory",
    "orders",
    "execution",
    "integration",
    # Above every app: roles, home, notifications, the demo's commands (mesproject/workplace/).
    "mesproject.workplace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "integration.erp.middleware.IdempotencyMiddleware",
    "mesproject.errors.ApiNotFoundMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mesproject.urls"
WSGI_APPLICATION = "mesproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mesproject.workplace.navigation.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database(str(VAR_DIR / "mes.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Sign-in throttling (django-axes): after MES_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is locked out for MES_LOGIN_COOLOFF_MINUTES (429 and a
# page that says so), on /accounts/login/ and /admin/login/ alike; a right password resets
# the count. Per username and address: a guesser cannot lock a user out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("MES_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MES_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# No configuration banner on every start (it was the last line of `manage.py shell` output).
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API takes JSON bodies only (the B2MML schedule has its own XML parsers): a form body
    # cannot carry the nested lines or a null, nor the transaction_uuid the idempotency
    # middleware reads, so the schema does not offer it and the API answers 415.
    # mesproject.parsers: DRF's JSON parser with a depth limit and no control characters.
    "DEFAULT_PARSER_CLASSES": ["mesproject.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "mesproject.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "mesproject.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "mesproject.errors.api_exception_handler",
    # Per caller at its role's rate (MES_API_THROTTLE_RATES): 429 with the error body.
    "DEFAULT_THROTTLE_CLASSES": ["mesproject.throttling.RoleRateThrottle"],
}
# Requests per caller and period ("n/s", "n/min", "n/h"), by role (mesproject/throttling.py).
# Set high for machine callers: a throttled terminal post or ERP call is retried later, but a
# plant's scale unit forwards the registrations of all its terminals through one token.
MES_API_THROTTLE_RATES = {
    "anon": env_str("MES_THROTTLE_ANON", "60/min"),
    "user": env_str("MES_THROTTLE_USER", "1200/min"),
    "terminal": env_str("MES_THROTTLE_TERMINAL", "600/min"),
    "operator": env_str("MES_THROTTLE_OPERATOR", "6000/min"),
    "erp-integration": env_str("MES_THROTTLE_ERP", "6000/min"),
    "scale-unit": env_str("MES_THROTTLE_SCALE_UNIT", "12000/min"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MES back office API",
    "DESCRIPTION": "The ERP and shop-floor contract of the MES back office.",
    "VERSION": "1.0.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mesproject.schema.add_idempotency_contract",
        "mesproject.schema.add_error_responses",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package, never a CDN: plants run offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "kind": name each choice set after what it is.
    "ENUM_NAME_OVERRIDES": {
        "RegistrationKindEnum": "execution.choices.RegistrationKind",
        "TransactionKindEnum": "inventory.choices.TransactionKind",
    },
}

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, which needs no
# server, so the embedded default still runs a real worker and beat on one machine.
REDIS_URL = env_str("REDIS_URL")
CELERY_QUEUE_DIR = Path(env_str("MES_CELERY_QUEUE_DIR", str(VAR_DIR / "celery")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_QUEUE_DIR / 'results'}"
CELERY_TIMEZONE = TIME_ZONE
# A cache every process shares (web, workers): Redis, or files next to the embedded database.
# It only debounces nudges; losing it loses nothing.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The beat schedule lives here and only here; DatabaseScheduler copies it into the admin,
# where intervals can be tuned without a deploy.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "integration.tasks.record_heartbeat",
        "schedule": timedelta(seconds=env_int("MES_HEARTBEAT_SECONDS", 30)),
    },
    "calculate-attendance": {
        "task": "execution.tasks.calculate_attendance_yesterday",
        "schedule": crontab(hour=2, minute=15),
    },
    "process-raw-registrations": {
        "task": "execution.tasks.process_raw_registrations",
        "schedule": timedelta(seconds=env_int("MES_PROCESSOR_INTERVAL_SECONDS", 60)),
    },
    # Due retries are a column in the database swept here, never broker countdowns (Redis
    # would redeliver an unacknowledged countdown after its visibility timeout: twice).
    "deliver-outbox": {
        "task": "integration.tasks.deliver_outbox",
        "schedule": timedelta(seconds=env_int("MES_OUTBOX_INTERVAL_SECONDS", 15)),
    },
    "flush-material-issues": {
        "task": "integration.tasks.flush_material_issues",
        "schedule": timedelta(seconds=60),
    },
    "reconcile-wip": {
        "task": "integration.tasks.reconcile_wip_nightly",
        "schedule": crontab(
            hour=env_int("MES_RECONCILIATION_HOUR", 3),
            minute=env_int("MES_RECONCILIATION_MINUTE", 30),
        ),
    },
    "purge-idempotency-keys": {
        "task": "integration.tasks.purge_idempotency_keys",
        "schedule": crontab(hour=4, minute=0),
    },
}

MES_DEMO_PASSWORD = "demo-mes-2026"
# A worker signed in at a terminal is signed out after this long without a tap.
MES_TERMINAL_IDLE_SECONDS = env_int("MES_TERMINAL_IDLE_SECONDS", 120)

# Registrations: the processor runs every minute (beat) and is nudged when one arrives.
MES_PROCESSOR_INTERVAL_SECONDS = env_int("MES_PROCESSOR_INTERVAL_SECONDS", 60)
MES_PROCESSOR_NUDGE = env_bool("MES_PROCESSOR_NUDGE", True)
MES_PROCESSOR_BATCH = env_int("MES_PROCESSOR_BATCH", 500)
# How far back a terminal may date a registration (an offline terminal's backlog; 0: no
# limit), and how far ahead of the server's clock a terminal's clock may run.
MES_REGISTRATION_BACKDATING_HOURS = env_int("MES_REGISTRATION_BACKDATING_HOURS", 24)
MES_REGISTRATION_CLOCK_SKEW_SECONDS = env_int("MES_REGISTRATION_CLOCK_SKEW_SECONDS", 120)

# ERP contract (docs/integration.md). A WIP snapshot of 100,000 lines is ~10 MB of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024)
MES_IDEMPOTENCY_KEY_DAYS = env_int("MES_IDEMPOTENCY_KEY_DAYS", 30)
# A key claimed longer ago than this whose request never finished (a killed process) may be
# taken over by a retry instead of answering 409 forever.
MES_IDEMPOTENCY_IN_FLIGHT_SECONDS = env_int("MES_IDEMPOTENCY_IN_FLIGHT_SECONDS", 120)
MES_ERP_ENDPOINT_URL = env_str("MES_ERP_ENDPOINT_URL", "")
# Comma-separated; every secret signs (the first is the current one), so a rotation is:
# add the new secret in front, switch the ERP over, drop the old one.
MES_ERP_SIGNING_SECRETS = env_list("MES_ERP_SIGNING_SECRETS", ["change-me-erp-secret"])
MES_ERP_TIMEOUT_SECONDS = float(env_str("MES_ERP_TIMEOUT_SECONDS", "5"))
MES_OUTBOX_RETRY_SECONDS = [
    int(s) for s in env_list("MES_OUTBOX_RETRY_SECONDS", ["30", "60", "300", "3600"])
]
MES_OUTBOX_BATCH = env_int("MES_OUTBOX_BATCH", 200)
# A message that keeps failing (timeouts, 5xx) goes to the dead-letter queue after this many
# attempts; a rejection (4xx) goes there at once. Retries go on from there on the schedule.
MES_OUTBOX_DLQ_AFTER_ATTEMPTS = env_int("MES_OUTBOX_DLQ_AFTER_ATTEMPTS", 3)
# Streams (work orders) sent in parallel on PostgreSQL; each stream stays in sequence.
MES_OUTBOX_THREADS = env_int("MES_OUTBOX_THREADS", 4)
MES_MATERIAL_ISSUE_BATCH_MINUTES = env_int("MES_MATERIAL_ISSUE_BATCH_MINUTES", 15)
MES_MATERIAL_ISSUE_BATCH_UNITS = env_int("MES_MATERIAL_ISSUE_BATCH_UNITS", 50)
# Where the as-built record of a closed order can be read (the genealogy message links it).
MES_PUBLIC_URL = env_str("MES_PUBLIC_URL", "http://127.0.0.1:8000")
MES_RECONCILIATION_THRESHOLD_QTY = env_str("MES_RECONCILIATION_THRESHOLD_QTY", "0.5")
MES_RECONCILIATION_THRESHOLD_PCT = env_str("MES_RECONCILIATION_THRESHOLD_PCT", "1")
# Alerts also go by e-mail to these addresses when EMAIL_HOST is configured.
MES_ALERT_EMAILS = env_list("MES_ALERT_EMAILS", [])
EMAIL_HOST = env_str("EMAIL_HOST", "")

# Hub and scale units (docs/scale_units.md). A hub (the default) runs everything; a scale unit
# runs the execution workload of its sites with its own database, worker and beat, takes the
# hub's order packages and forwards its registrations. It always calls the hub, never the
# other way round: a plant's firewall lets it out, and the hub needs no address of it.
MES_ROLE = env_str("MES_ROLE", "hub")
if MES_ROLE not in ("hub", "scale_unit"):
    raise ImproperlyConfigured("MES_ROLE is hub or scale_unit.")
MES_SCALE_UNIT_ID = env_str("MES_SCALE_UNIT_ID", "")
MES_HUB_URL = (env_str("MES_HUB_URL", "") or "").rstrip("/")
MES_HUB_TOKEN = env_str("MES_HUB_TOKEN", "")
if MES_ROLE == "scale_unit" and not (MES_SCALE_UNIT_ID and MES_HUB_URL and MES_HUB_TOKEN):
    raise ImproperlyConfigured(
        "A scale unit needs MES_SCALE_UNIT_ID, MES_HUB_URL and MES_HUB_TOKEN "
        "(the hub's manage.py register_scale_unit prints them)."
    )
# Where execution hands what integration sends on (execution may not import integration; two
# named functions, not registries): the door queues a registration accepted on a scale unit
# for the hub, and the transfer of attendance days sends the pay basis to payroll, each in
# its own transaction.
MES_SCALE_UNIT_FORWARDER = "integration.scale_units.services.forward_record"
MES_PAY_BASIS_SENDER = "integration.erp.services.outbox.pay_basis_send"
MES_HUB_TIMEOUT_SECONDS = float(env_str("MES_HUB_TIMEOUT_SECONDS", "30"))
MES_HUB_SYNC_SECONDS = env_int("MES_HUB_SYNC_SECONDS", 15)
MES_HUB_FORWARD_BATCH = env_int("MES_HUB_FORWARD_BATCH", 100)
# After a failed contact the scale unit waits 15 s, 30 s, ... up to this long.
MES_HUB_MAX_BACKOFF_SECONDS = env_int("MES_HUB_MAX_BACKOFF_SECONDS", 300)
# Inventory and financial updates are the hub's: a scale unit processes its registrations
# for the floor (jobs, order quantities, logbook, attendance) and posts nothing.
MES_POST_INVENTORY = MES_ROLE == "hub"
if MES_ROLE == "scale_unit":
    # The ERP is the hub's business: no outbox, no reconciliation on a scale unit.
    for _task in ("deliver-outbox", "flush-material-issues", "reconcile-wip"):
        CELERY_BEAT_SCHEDULE.pop(_task)
    CELERY_BEAT_SCHEDULE["sync-with-hub"] = {
        "task": "integration.tasks.sync_with_hub",
        "schedule": timedelta(seconds=MES_HUB_SYNC_SECONDS),
    }
else:
    CELERY_BEAT_SCHEDULE["scale-units-reference-data"] = {
        "task": "integration.tasks.send_reference_data",
        "schedule": crontab(minute=10),
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
