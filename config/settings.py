"""Settings for LINE OA Live Chat.

Everything that differs between machines comes from the environment (django-environ; a `.env`
file beside manage.py is honoured). The defaults give the embedded set-up:
SQLite, the in-memory channel layer and, with no LINE credentials in DEBUG, the LINE simulator.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG: bool = env.bool("DEBUG", default=False)
SECRET_KEY: str = env.str("SECRET_KEY", default="") or (
    "dev-only-insecure-key-do-not-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "accounts",
    "livechat",
    "analytics",
]

# WhiteNoise is sync-only, so it goes last rather than second as its docs suggest. Under ASGI,
# Django runs the async-capable middleware below a sync-only one in async mode and moves each of
# their process_request/process_response calls to the request's thread and back: a dozen thread
# hand-offs per request, ~1 ms of CPU per request in all (measured with bench/webhook.py). Last,
# it lets all the others run in sync mode in the request's one thread. Static responses now also
# get the headers of the middleware above (CSP, X-Frame-Options, Vary: Accept-Language): harmless.
MIDDLEWARE = [
    "config.request_metrics.request_timing",  # first: its histogram times all the others
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.idle_sessions.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own psycopg 3 pool. CONN_MAX_AGE is wrong under ASGI: every request runs in a
    # fresh thread, so persistent connections would pile up instead of being reused.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        # How long a request waits for a connection. Short: LINE gives a webhook 2 s, and while
        # PostgreSQL is unreachable every request should get its 503 at once, not after a wait.
        "timeout": env.float("DB_POOL_TIMEOUT", default=3.0),
    }
    # Parameters travel apart from the SQL (no quoting in Python): about a fifth less CPU per
    # webhook event (bench/webhook.py).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = env.bool("DB_SERVER_SIDE_BINDING", default=True)
    # psycopg prepares a statement on a connection after it ran there this many times, so the
    # hot ones skip PostgreSQL's parse and plan (the webhook's one-statement append is ~0.4 ms
    # faster). Django turns this off unless asked, for PgBouncer in transaction mode: set it to
    # "" behind such a pooler (PgBouncer ≥ 1.21 with max_prepared_statements is fine).
    _threshold = env.str("DB_PREPARE_THRESHOLD", default="5")
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(_threshold) if _threshold else None
    # PostgreSQL's JIT compiles a query whose estimated cost is high; for the analytics
    # aggregates that compiling took 0.1–0.9 s per request and saved nothing (bench/analytics.py).
    # DB_JIT=1 leaves the server's own setting (behind PgBouncer, which refuses startup options
    # unless told to ignore them, set DB_JIT=1 and `ALTER ROLE … SET jit = off` instead).
    if not env.bool("DB_JIT", default=False):
        DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the webhook's threads and the worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
# Which channels_redis layer carries events between processes: "redis" (RedisChannelLayer, lists)
# or "redis-pubsub" (RedisPubSubChannelLayer). docs/performance.md, "Channel layer choice": why.
CHANNEL_LAYER_BACKEND: str = env.str("CHANNEL_LAYER_BACKEND", default="redis-pubsub")
_REDIS_LAYERS = {
    "redis": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # The layer waits for events with a 5 s BZPOPMIN; redis-py 8 also gives up reading after
            # 5 s by default, so idle sockets would be closed as if the layer were lost (4503).
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
            "capacity": 1500,
            "expiry": 30,
        },
    },
    "redis-pubsub": {
        # channels_redis' RedisPubSubChannelLayer, which also closes sockets (4503) on a gap.
        "BACKEND": "livechat.realtime.channel_layer.PubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    },
}
if CHANNEL_LAYER_BACKEND not in _REDIS_LAYERS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"CHANNEL_LAYER_BACKEND must be one of {', '.join(_REDIS_LAYERS)}.")
CHANNEL_LAYERS = {
    "default": _REDIS_LAYERS[CHANNEL_LAYER_BACKEND]
    if REDIS_URL
    else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}

# --- Cache ----------------------------------------------------------------------------------
# Shared by every process when Redis is there, so an edit (e.g. the bot's texts) is seen by
# all of them at once; one process's memory otherwise (the embedded set-up has one process).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
# django-axes counts failed sign-ins (the console's and Django admin's) per account and per address:
# after LOGIN_FAILURE_LIMIT in a row, that account — and that address — wait LOGIN_LOCKOUT_MINUTES.
# Every sign-in, failed or not, and every sign-out is in the audit log (accounts/audit.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT: int = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "accounts.sign_in.lockout_parameters"  # tokens: per address only
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "th"
LANGUAGES = [("th", _("Thai")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE: str = env.str("TIME_ZONE", default="Asia/Bangkok")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: livechat.console.views.media checks the staff login

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# A console session ends after this long without activity (accounts/idle_sessions.py); its
# sockets close with 4401 and the console asks to sign in again.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_HOURS", default=12) * 3600
SESSION_ACTIVITY_RESOLUTION_SECONDS = 300
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", "https:", "http:"],
    "media-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF, "ws:", "wss:"],
    "frame-ancestors": [CSP.NONE],
}
# HTTPS behind a proxy (nginx terminating TLS and sending X-Forwarded-Proto): one switch, on by
# default whenever DEBUG is off. HTTPS_ONLY=0 for a plain-HTTP rig (the benches, browser tests).
HTTPS_ONLY: bool = env.bool("HTTPS_ONLY", default=not DEBUG)
if HTTPS_ONLY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers and Prometheus probe these over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a promise to browsers' vendors that only the domain's owner can make.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Who may read /metrics when DEBUG is off: a scraper sending `Authorization: Bearer <token>`, or
# one calling from these addresses (REMOTE_ADDR: the proxy's, if /metrics is proxied).
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_ADDRESSES: list[str] = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])

# The webhook body cap (oversized bodies get a clear error).
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
# How long a webhook body's events are processed before the answer; the rest of a huge body is
# stored at once and processed right after it (LINE waits about 2 s).
WEBHOOK_INLINE_SECONDS: float = env.float("WEBHOOK_INLINE_SECONDS", default=0.5)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous call is then answered 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.sign_in.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["livechat.conversations.permissions.IsTeamMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error in one JSON shape, {"code", "message"} (livechat.api.responses).
    "EXCEPTION_HANDLER": "livechat.api.responses.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {"TITLE": "LINE OA Live Chat API", "VERSION": "1.0.0"}

# --- LINE -----------------------------------------------------------------------------------
LINE_CHANNEL_SECRET: str = env.str("LINE_CHANNEL_SECRET", default="")
LINE_CHANNEL_ACCESS_TOKEN: str = env.str("LINE_CHANNEL_ACCESS_TOKEN", default="")
LINE_SIMULATOR: bool = env.bool(
    "LINE_SIMULATOR", default=DEBUG and not (LINE_CHANNEL_SECRET or LINE_CHANNEL_ACCESS_TOKEN)
)
if LINE_SIMULATOR:
    # The simulator signs its webhooks and accepts API calls with these stand-ins.
    LINE_CHANNEL_SECRET = LINE_CHANNEL_SECRET or "simulator-channel-secret"
    LINE_CHANNEL_ACCESS_TOKEN = LINE_CHANNEL_ACCESS_TOKEN or "simulator-access-token"
    # Its own app, tables and URLs: a production database never has them.
    INSTALLED_APPS.append("livechat.simulator")
# With DEBUG off, the simulator's control endpoints (recorded calls, faults) answer a staff login
# or this token in X-Simulator-Control-Token (the benches' and browser tests' servers).
SIMULATOR_CONTROL_TOKEN: str = env.str("SIMULATOR_CONTROL_TOKEN", default="")
# Where the SDK sends Messaging API calls (both api.line.me and api-data.line.me). With the
# simulator on and nothing set, the app talks to its own /simulator/line-api/ over HTTP.
LINE_API_BASE_URL: str = env.str(
    "LINE_API_BASE_URL",
    default=f"http://127.0.0.1:{env.int('PORT', default=8000)}/simulator/line-api" if LINE_SIMULATOR else "",
).rstrip("/")
LINE_API_TIMEOUT_SECONDS: float = env.float("LINE_API_TIMEOUT_SECONDS", default=5.0)
# Where LINE reaches this app from outside (https://chat.example.com): the base of the image URLs
# LINE fetches when an operator sends a picture. Empty: the URL the console was opened with.
PUBLIC_BASE_URL: str = env.str("PUBLIC_BASE_URL", default="")
# Customers see who answers: operator messages carry their display name as LINE's `sender`, bot
# messages LINE_BOT_NAME (at most 20 characters, shown above the message on the phone).
LINE_SHOW_SENDER: bool = env.bool("LINE_SHOW_SENDER", default=True)
LINE_BOT_NAME: str = env.str("LINE_BOT_NAME", default="ผู้ช่วยอัตโนมัติ")
# LINE documents reply tokens as usable for about a minute; leave a margin for the round trip.
LINE_REPLY_TOKEN_TTL_SECONDS: int = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
LINE_RETRY_BASE_SECONDS: float = env.float("LINE_RETRY_BASE_SECONDS", default=0.5)
# After 5 failures of LINE (5xx, timeouts) within a minute, nobody calls it for this long; then one
# trial call decides (livechat/delivery/circuit.py).
LINE_CIRCUIT_COOL_OFF_SECONDS: float = env.float("LINE_CIRCUIT_COOL_OFF_SECONDS", default=30.0)

# --- Real time ---------------------------------------------------------------------------------
# An operator socket that has not pinged for this long is gone (its process may have died).
PRESENCE_TTL_SECONDS: int = env.int("PRESENCE_TTL_SECONDS", default=60)
