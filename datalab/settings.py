"""datalab settings: one module, driven by environment variables (see docs/configuration.md).

With no variable set, everything runs on embedded defaults: SQLite under ./var/, the SQLite event
store, an in-memory channel layer, e-mail printed to the console.
"""

from datetime import timedelta
from pathlib import Path

from datalab.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    secret_key_from,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATALAB_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key_from(DATA_DIR)
DEBUG = env_bool("DATALAB_DEBUG", False)
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", *env_list("DATALAB_ALLOWED_HOSTS", [])]
PUBLIC_URL = env_str("DATALAB_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "corsheaders",
    "channels",
    "datalab",
    "accounts",
    "outbox",
    "orgs",
    "apps_registry",
    "funnels",
    "tokens",
    "ingest",
    "archive",
    "insights",
    "demo",
    "live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "datalab.urls"
ASGI_APPLICATION = "datalab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "datalab" / "templates"],
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

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'datalab.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL and a busy timeout: the ASGI server and management commands share the file.
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Built front-end assets: the dashboard (static/dist) and the snippet (static/client/dist,
# served as /static/datalab.js).
STATICFILES_DIRS = [
    d for d in (BASE_DIR / "static" / "dist", BASE_DIR / "static" / "client" / "dist") if d.is_dir()
]
# Serve built assets straight from their folders too, so `make run` works without a
# collectstatic step after each front-end build.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_KEEP_ONLY_HASHED_FILES = False

# --- Security -------------------------------------------------------------------------------
HTTPS = env_bool("DATALAB_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("DATALAB_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DATALAB_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DATALAB_CSRF_TRUSTED_ORIGINS", [])
CORS_ALLOWED_ORIGINS = env_list("DATALAB_CORS_ORIGINS", [])
# The ingest fallback answers CORS itself, for the origin of the app whose token it carries.
CORS_URLS_REGEX = r"^/api/(?!v1/ingest$).*$"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "datalab.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "auth_login": env_str("DATALAB_THROTTLE_LOGIN", "10/min"),
        "auth_register": env_str("DATALAB_THROTTLE_REGISTER", "5/min"),
    },
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "datalab API",
    "DESCRIPTION": "Self-hosted product analytics: apps, funnels, insights, live data.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # `<id:...>` in URLs (datalab.converters): a database id
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "format": "int64"}
    },
}

ACCESS_TOKEN_LIFETIME = timedelta(seconds=env_int("DATALAB_ACCESS_TOKEN_SECONDS", 900, minimum=30))
REFRESH_TOKEN_LIFETIME = timedelta(days=env_int("DATALAB_REFRESH_TOKEN_DAYS", 14, minimum=1))
EMAIL_VERIFICATION_MAX_AGE = timedelta(hours=env_int("DATALAB_VERIFY_HOURS", 48, minimum=1))

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- E-mail: console unless an SMTP host is configured ------------------------------------------
EMAIL_HOST = env_str("DATALAB_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("DATALAB_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("DATALAB_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("DATALAB_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DATALAB_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DATALAB_EMAIL_FROM", "datalab <no-reply@localhost>")

# --- Websockets and the event store -----------------------------------------------------------
REDIS_URL = env_str("DATALAB_REDIS_URL", "")
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No socket read timeout: redis-py 8's default (5 s) equals the layer's blocking
            # pop and kills idle sockets now and then (redis-py#4091, channels_redis#422).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
EVENT_STORE = env_choice("DATALAB_EVENT_STORE", "sqlite", ("sqlite", "cassandra"))
EVENT_STORE_SQLITE_PATH = Path(
    env_str("DATALAB_EVENTS_SQLITE_PATH", str(DATA_DIR / "events.sqlite3"))
)
ARCHIVE_DIR = Path(env_str("DATALAB_ARCHIVE_DIR", str(DATA_DIR / "archive"))).resolve()
# manage.py serve may keep the memory an insight frees for the next one (datalab/memory.py).
KEEP_FREED_MEMORY = env_bool("DATALAB_KEEP_FREED_MEMORY", False)
INGEST_RATE = env_int("DATALAB_INGEST_RATE", 500, minimum=1)  # events/s per connection
INGEST_BURST = env_int("DATALAB_INGEST_BURST", 2000, minimum=100)
# frames per second per connection (the snippet sends about one), bursts of 5 s worth
INGEST_FRAME_RATE = env_int("DATALAB_INGEST_FRAME_RATE", 20, minimum=1)
# Flood limits, per server process (ingest/limits.py): per client address and per app token.
INGEST_CONNECTIONS_PER_ADDRESS = env_int("DATALAB_INGEST_CONNECTIONS_PER_ADDRESS", 200, minimum=1)
INGEST_CONNECTIONS_PER_TOKEN = env_int("DATALAB_INGEST_CONNECTIONS_PER_TOKEN", 10000, minimum=1)
INGEST_ADDRESS_RATE = env_int("DATALAB_INGEST_ADDRESS_RATE", 5000, minimum=1)  # events/s
INGEST_TOKEN_RATE = env_int("DATALAB_INGEST_TOKEN_RATE", 50000, minimum=1)  # events/s
INGEST_COOLDOWN_SECONDS = env_int("DATALAB_INGEST_COOLDOWN_SECONDS", 10, minimum=0)
INGEST_IDLE_SECONDS = env_int("DATALAB_INGEST_IDLE_SECONDS", 300, minimum=5)
INGEST_RECHECK_SECONDS = env_int("DATALAB_INGEST_RECHECK_SECONDS", 5, minimum=0)
INGEST_STORE_RETRY_SECONDS = env_int("DATALAB_INGEST_STORE_RETRY_SECONDS", 10, minimum=0)
# Capture mode (ingest/inbox.py): ack once a frame is in the inbox; `manage.py process_inbox`
# (started by `serve`) stores its events. Off: ack once the events are in the event store.
INGEST_CAPTURE = env_bool("DATALAB_INGEST_CAPTURE", False)
INGEST_INBOX_DIR = Path(env_str("DATALAB_INGEST_INBOX_DIR", str(DATA_DIR / "inbox"))).resolve()
INGEST_BACKLOG_MB = env_int("DATALAB_INGEST_BACKLOG_MB", 256, minimum=1)
CASSANDRA = {
    "hosts": env_list("DATALAB_CASSANDRA_HOSTS", ["127.0.0.1"]),
    "port": env_int("DATALAB_CASSANDRA_PORT", 9042, minimum=1),
    "keyspace": env_str("DATALAB_CASSANDRA_KEYSPACE", "datalab"),
    "local_dc": env_str("DATALAB_CASSANDRA_LOCAL_DC", "datacenter1"),
    "replication": env_str("DATALAB_CASSANDRA_REPLICATION", "SimpleStrategy:1"),
    "consistency": env_str("DATALAB_CASSANDRA_CONSISTENCY", "LOCAL_QUORUM"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DATALAB_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
