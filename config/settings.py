"""Showdesk settings, read from the environment (django-environ).

With no environment set, Showdesk runs on the embedded default: a SQLite file,
an in-memory channel layer and cache, jobs run in-process, local file storage.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-showdesk-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
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
    "channels",
    "django_structlog",
    "accounts",
    "episodes",
    "files",
    "jobs",
    "realtime",
    "desk",
]

MIDDLEWARE = [
    "common.middleware.RequestIdHeaderMiddleware",
    "common.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "common.actor.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Connections are reused, not opened per request or per consumer call (a new connection
    # per ORM call of a socket consumer was a sixth of the cost of opening one,
    # bench/ws_memory.py). An ASGI server takes them from a pool (config/asgi.py sets
    # DATABASE_POOL_MAX_SIZE): there each request runs in a thread of its own, and a
    # CONN_MAX_AGE connection dies with its thread, unclosed: 50 concurrent requests used up
    # PostgreSQL's 100 connections (bench/http_load.py). Other processes (Celery's prefork
    # workers close a pool after every task, under the relay thread) keep CONN_MAX_AGE.
    _POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
    if _POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": _POOL_MAX_SIZE,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Bounded, so that /readyz answers 503 rather than hang when the database is unreachable.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Redis: channel layer, cache ------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    # "core" (channels-redis' documented layer) or "pubsub" (one publish per group, fanned
    # out in each process): chosen by measurement, see bench/ and the README.
    _LAYERS = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }
    # pubsub measured 1.5-2.5x faster at fan-out, and lost no socket (bench/ws_fanout.py).
    CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")
    if CHANNEL_LAYER not in _LAYERS:
        raise ImproperlyConfigured(f"CHANNEL_LAYER must be one of {', '.join(_LAYERS)}.")
    # Redis pub/sub channels ignore the database number, so deployments (or test runs) sharing
    # a Redis server on different databases would hear each other: the prefix keeps them apart.
    _REDIS_DB = urlparse(REDIS_URL).path.strip("/") or "0"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _LAYERS[CHANNEL_LAYER],
            "CONFIG": {
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default=f"showdesk-db{_REDIS_DB}"),
                # redis-py 8 times a socket out after 5 s by default, which the core layer's
                # 5 s blocking pop reaches on any idle socket: it must wait longer than that.
                # Its pool also raises past 100 connections instead of waiting.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 10, "max_connections": 10_000}],
                **({"capacity": 1000} if CHANNEL_LAYER == "core" else {}),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="showdesk"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Without a broker, jobs run in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
# A job's message is acknowledged once the job has run, and comes back when the worker
# process running it dies; each worker process holds one message at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING (structlog), like the web processes.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Jobs: the queue workers consume, and the dead-letter queue of jobs out of attempts.
JOBS_QUEUE = env.str("JOBS_QUEUE", default="jobs")
JOBS_DEAD_QUEUE = env.str("JOBS_DEAD_QUEUE", default="jobs-dead")
CELERY_TASK_DEFAULT_QUEUE = JOBS_QUEUE
# Queued jobs are sent to the workers (or run in-process) once their transaction commits.
# The test suite turns it off where it drives job states through the services itself.
JOBS_DISPATCH = env.bool("JOBS_DISPATCH", default=True)
JOBS_HANDLER_MODULES = [
    "jobs.handlers.media_probe",
    "jobs.handlers.thumbnail",
    "jobs.handlers.search_index",
    "jobs.handlers.export_episode",
    *env.list("JOBS_EXTRA_HANDLER_MODULES", default=[]),
]
# The longest a job may run (seconds): past it the attempt is stopped and counts as failed.
JOBS_TIME_LIMIT = env.int("JOBS_TIME_LIMIT", default=3600)
CELERY_TASK_SOFT_TIME_LIMIT = JOBS_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = JOBS_TIME_LIMIT + 60
# Retries wait base * 2^(attempt - 1) seconds, capped, with jitter (half to all of it).
JOBS_RETRY_BACKOFF = env.float("JOBS_RETRY_BACKOFF", default=5.0)
JOBS_RETRY_BACKOFF_MAX = env.float("JOBS_RETRY_BACKOFF_MAX", default=600.0)
# A running attempt holds its job this long past its last heartbeat (every third of it).
JOBS_LEASE_SECONDS = env.float("JOBS_LEASE_SECONDS", default=60.0)
# An unacknowledged message comes back after this: longer than the longest job plus the
# longest retry countdown (which the worker holds unacknowledged), or a job still running
# would be delivered again. SQS caps it at 12 h.
JOBS_VISIBILITY_TIMEOUT = env.int(
    "JOBS_VISIBILITY_TIMEOUT",
    default=min(43200, int(CELERY_TASK_TIME_LIMIT + JOBS_RETRY_BACKOFF_MAX + 300)),
)
# SQS: receives of one message before SQS moves it to the dead-letter queue (a message that
# kills every worker taking it); the queues' URLs are <prefix>/<queue name>.
JOBS_SQS_MAX_RECEIVE_COUNT = env.int("JOBS_SQS_MAX_RECEIVE_COUNT", default=10)
JOBS_SQS_QUEUE_URL_PREFIX = env.str("JOBS_SQS_QUEUE_URL_PREFIX", default="").rstrip("/")
JOBS_SQS_REGION = env.str("JOBS_SQS_REGION", default="us-east-1")
JOBS_SQS_SECURE = env.bool("JOBS_SQS_SECURE", default=True)
JOBS_SQS_WAIT_TIME = env.int("JOBS_SQS_WAIT_TIME", default=10)
JOBS_SQS_POLLING_INTERVAL = env.float("JOBS_SQS_POLLING_INTERVAL", default=1.0)

CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": JOBS_VISIBILITY_TIMEOUT}
if CELERY_BROKER_URL.startswith("sqs://"):
    if not JOBS_SQS_QUEUE_URL_PREFIX:
        raise ImproperlyConfigured(
            "An SQS broker needs JOBS_SQS_QUEUE_URL_PREFIX (https://sqs.<region>.amazonaws.com/"
            "<account>): its queues are predefined, made by `manage.py jobs_setup_queues`."
        )
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        region=JOBS_SQS_REGION,
        is_secure=JOBS_SQS_SECURE,
        wait_time_seconds=JOBS_SQS_WAIT_TIME,
        polling_interval=JOBS_SQS_POLLING_INTERVAL,
        predefined_queues={
            name: {"url": f"{JOBS_SQS_QUEUE_URL_PREFIX}/{name}"}
            for name in (JOBS_QUEUE, JOBS_DEAD_QUEUE)
        },
    )
    # Remote control and worker events need fanout queues, which predefined SQS queues
    # do not have.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    CELERY_WORKER_SEND_TASK_EVENTS = False
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        # How often a worker looks for unacknowledged messages past their visibility timeout
        # (those of a worker that died): every interval * throttle seconds.
        unacked_restore_interval=env.int("JOBS_REDIS_RESTORE_INTERVAL", default=10),
        unacked_restore_throttle=1,
    )

# --- Auth -------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins of one username from one client IP before it is refused for the window.
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=60)

# --- I18N, static -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Files: S3 (django-storages) when a bucket is named, MEDIA_ROOT otherwise -----------------

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
# An S3-compatible server (MinIO, Ceph...); unset for AWS itself.
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
# Unset: boto3's own chain (instance role, ~/.aws, AWS_* of the process environment).
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}

# --- REST -----------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ReadOrEdit"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "common.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "common.errors.exception_handler",
    # Attempts at auth/login/ and auth/token/ per client IP (accounts/throttles.py).
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_RATE_PER_IP", default="20/min")},
    # Proxies in front that append to X-Forwarded-For; with 0 the header is ignored, so a
    # client cannot pick the IP its rate limits are counted against.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Showdesk API",
    "DESCRIPTION": "Episodes, compositions, files and jobs, with live events over /ws/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EpisodeStatusEnum": "episodes.models.Episode.Status",
        "JobStatusEnum": "jobs.models.Job.Status",
        "FileAssetStatusEnum": "files.models.FileAsset.Status",
    },
    # `check --deploy` stays about deployment safety; schema warnings fail CI instead
    # (`spectacular --validate --fail-on-warn`, tests/common/test_openapi.py).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
DJANGO_STRUCTLOG_CELERY_ENABLED = False
# RequestIdHeaderMiddleware has put a checked X-Request-ID (the caller's, or a new one) on the
# request; django-structlog binds that same id to the log lines.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True

from common.logging import configure_logging  # noqa: E402

LOGGING = configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)

# --- Production security (all on when DEBUG is false) ----------------------------------------

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Showdesk -------------------------------------------------------------------------------

PRESENCE_TTL = env.int("PRESENCE_TTL", default=60)
# A socket heartbeats at least every 30 s; it stays a viewer this long after its last one.
PRESENCE_SOCKET_TTL = env.int("PRESENCE_SOCKET_TTL", default=45)
PRESENCE_SWEEP_INTERVAL = env.float("PRESENCE_SWEEP_INTERVAL", default=5.0)
PRESENCE_KEY_PREFIX = env.str("PRESENCE_KEY_PREFIX", default="presence")
EVENTS_RETENTION = env.int("EVENTS_RETENTION", default=24 * 3600)
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)
FILES_MAX_SIZE = env.int("FILES_MAX_SIZE", default=5 * 1024**3)
# The largest body of any other request, refused before it is read (common/body_limit.py).
REQUEST_BODY_MAX = env.int("REQUEST_BODY_MAX", default=10 * 1024**2)
# Patterns of the content types a file may have (`video/*`, `image/png`).
FILES_ALLOWED_TYPES = env.list("FILES_ALLOWED_TYPES", default=["audio/*", "video/*", "image/*"])
# Uploads still pending this long are deleted, objects included (`manage.py prune_uploads`).
FILES_PENDING_TTL = env.int("FILES_PENDING_TTL", default=24 * 3600)
# How long a presigned upload (POST) and a presigned download (GET) stay valid, in seconds.
FILES_UPLOAD_URL_TTL = env.int("FILES_UPLOAD_URL_TTL", default=3600)
FILES_DOWNLOAD_URL_TTL = env.int("FILES_DOWNLOAD_URL_TTL", default=300)
NOTIFICATIONS_RETENTION = env.int("NOTIFICATIONS_RETENTION", default=30 * 24 * 3600)
VIEWED_EPISODE_INTERVAL = 600

# --- Search: OpenSearch when a URL is set; the database's own search otherwise ----------------

# May carry credentials (https://user:password@host:9200): never logged.
OPENSEARCH_URL = env.str("OPENSEARCH_URL", default="")
# The alias searched and written; each build is an index `<alias>-v<n>` behind it.
OPENSEARCH_INDEX = env.str("OPENSEARCH_INDEX", default="showdesk-episodes")
# Seconds a search waits for OpenSearch before answering from the database instead.
OPENSEARCH_TIMEOUT = env.float("OPENSEARCH_TIMEOUT", default=1.5)
# Seconds an index write (a job, search_reindex's batches) waits for OpenSearch.
OPENSEARCH_INDEX_TIMEOUT = env.float("OPENSEARCH_INDEX_TIMEOUT", default=10.0)
# After a failed call, searches skip OpenSearch for this long (seconds) rather than each
# waiting out the timeout.
OPENSEARCH_RETRY_AFTER = env.float("OPENSEARCH_RETRY_AFTER", default=5.0)
# The best this many matches are ranked; a search answers no more than these.
OPENSEARCH_MAX_HITS = env.int("OPENSEARCH_MAX_HITS", default=1000)
# Attempts of a search_index job: with a broker, enough backoff (about 20 min in all) to
# outlast an OpenSearch restart; in-process, retries come at once and add nothing.
OPENSEARCH_INDEX_ATTEMPTS = env.int(
    "OPENSEARCH_INDEX_ATTEMPTS", default=8 if CELERY_BROKER_URL else 1
)

# Feature flags (CONTRACT.md): all on by default; `false` turns one off.
ACTIVITY_LOGGING = env.bool("ACTIVITY_LOGGING", default=True)
DISABLE_ACTIVITY_LOGGING = env.bool("DISABLE_ACTIVITY_LOGGING", default=False)
NOTIFICATIONS = env.bool("NOTIFICATIONS", default=True)
PRESENCE_TRACKING = env.bool("PRESENCE_TRACKING", default=True)
WEBSOCKET_BROADCAST = env.bool("WEBSOCKET_BROADCAST", default=True)

# The outbox relay: "thread" publishes from a background thread of each process after
# commit; "inline" publishes in the committing thread (tests, one-off commands); "command"
# leaves publishing to `manage.py run_relay` (or the beat task) alone.
# The in-memory layer lives on the server's event loop, so it is published inline.
REALTIME_RELAY_MODE = env.str("REALTIME_RELAY_MODE", default="thread" if REDIS_URL else "inline")
REALTIME_RELAY_INTERVAL = env.float("REALTIME_RELAY_INTERVAL", default=2.0)
REALTIME_RELAY_BATCH = env.int("REALTIME_RELAY_BATCH", default=500)

CELERY_BEAT_SCHEDULE = {
    "publish-pending-events": {"task": "realtime.publish_pending", "schedule": 10.0},
    "prune-events": {"task": "realtime.prune_events", "schedule": 3600.0},
    # Jobs whose attempt died and whose message did not come back (lost with the broker).
    "recover-stale-jobs": {"task": "jobs.recover_stale", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE["prune-uploads"] = {"task": "files.prune_uploads", "schedule": 3600.0}
