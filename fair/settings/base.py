"""CloudFair settings, driven only by environment variables (see ``.env.example``).

Two ways to run, chosen by the environment:

* **Embedded default** (``DATABASE_URL`` and ``REDIS_URL`` unset): SQLite, in-memory channel
  layer, local-memory cache, Celery tasks run eagerly in-process, files under ``media/``.
* **Real deployment**: PostgreSQL, Redis (channel layer, cache, Celery broker), S3 storage
  through django-storages when ``AWS_STORAGE_BUCKET_NAME`` is set.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core ---

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG"  # noqa: S105 (debug only)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is not set. List the host names this site answers to, "
            "comma-separated (for example 'fair.example.com'), or set DJANGO_DEBUG=1."
        )
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
if "*" in ALLOWED_HOSTS:
    # AllowedHostsOriginValidator reuses ALLOWED_HOSTS: '*' would switch off the websocket
    # origin check, so it is refused outright.
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must not contain '*'.")

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
EMBEDDED = not DATABASE_URL and not REDIS_URL

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "django_countries",
    "fair",
    "exhibitors",
    "buyers",
    "livestream",
    "negotiations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fair.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fair.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "fair.session_limits.SessionTimeoutMiddleware",
    "fair.middleware.MfaRequiredMiddleware",
    # Logs the 403/404 answers of page views (SECURITY J2; API views log their own).
    "fair.security_log.AccessDeniedLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the login form into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fair.urls"
ASGI_APPLICATION = "fair.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fair.context_processors.fair",
            ],
        },
    },
]

# --- Database ---

if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            # 0: under ASGI every request runs on a thread of its own, so a connection kept
            # "between requests" is never reused and leaks (measured: 72 connections in 3 s).
            # The websockets' database threads keep theirs (REALTIME_DB_CONN_MAX_AGE).
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / env_str("SQLITE_PATH", "db.sqlite3"),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---

AUTH_USER_MODEL = "fair.User"
# auth.W004 asks for a unique USERNAME_FIELD; the email is unique *without regard to letter
# case* through a functional unique constraint on Lower(email), which the check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    # django-axes must come first: it refuses locked-out credentials before any check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day
# The host put in emailed links (password reset, invitations). Empty: the request's host,
# which ALLOWED_HOSTS has already checked. Set it in production (e.g. fair.example.com).
FAIR_SITE_DOMAIN = env_str("FAIR_SITE_DOMAIN")

# Login throttling (django-axes): after 10 bad passwords for one account, or from one address,
# within 15 minutes, further attempts are refused (the 10th already gets the lockout page);
# the lock lifts by itself 15 minutes after the last failure before it, and a password reset
# lifts it at once.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Failures while locked do not extend the lock: an attacker trying one password every few
# minutes cannot keep the real owner out for good (SECURITY B3).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "fair.accounts.axes_username"
# Behind N trusted proxies set AXES_IPWARE_PROXY_COUNT=N; by default X-Forwarded-For is not
# trusted, so a client cannot pick the address it is throttled under.
AXES_IPWARE_PROXY_COUNT = env_int("AXES_IPWARE_PROXY_COUNT", 0)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
AXES_VERBOSE = False

# --- Sessions, cookies, security ---

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # survives a Redis restart
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)
# Organisers and exhibitor owners/admins: signed out after 30 minutes idle, 12 hours in all
# (fair/session_limits.py; SECURITY C3).
SESSION_PRIVILEGED_IDLE_SECONDS = env_int("SESSION_PRIVILEGED_IDLE_SECONDS", 30 * 60)
SESSION_PRIVILEGED_ABSOLUTE_SECONDS = env_int("SESSION_PRIVILEGED_ABSOLUTE_SECONDS", 12 * 3600)
# Two-step verification (TOTP) for the same people (fair/mfa.py; SECURITY B7): on unless
# DEBUG (the embedded demo); wrong codes allowed before a lock, and the lock's length.
MFA_REQUIRED = env_bool("MFA_REQUIRED", not DEBUG)
MFA_MAX_FAILURES = env_int("MFA_MAX_FAILURES", 5)
MFA_LOCK_SECONDS = env_int("MFA_LOCK_SECONDS", 15 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind a TLS-terminating proxy in production; all of these follow DJANGO_SECURE (default: on
# when DEBUG is off) so `manage.py check --deploy` is clean for production settings.
SECURE = env_bool("DJANGO_SECURE", not DEBUG)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
if SECURE and env_bool("DJANGO_BEHIND_PROXY", True):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks and the media server's plain-HTTP callbacks inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livestream/media/"]

FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now: bare domains become https://
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Language and time ---

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("ar", "العربية"),
    ("ru", "Русский"),
    ("es", "Español"),
    ("fr", "Français"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# The fair's home zone: what an anonymous visitor sees until the browser tells us theirs.
FAIR_DEFAULT_TIME_ZONE = env_str("FAIR_DEFAULT_TIME_ZONE", "Asia/Shanghai")

# --- Static and media files ---

STATIC_URL = "/static/"
# Where collectstatic gathers the files (relative to the project folder, or absolute).
STATIC_ROOT = BASE_DIR / env_str("STATIC_ROOT_DIR", "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / env_str("MEDIA_DIR", "media")
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _s3_options = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "access_key": env_str("AWS_ACCESS_KEY_ID"),
        "secret_key": env_str("AWS_SECRET_ACCESS_KEY"),
        "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
        "region_name": env_str("AWS_S3_REGION_NAME", "us-east-1"),
        "addressing_style": "path",
        "signature_version": "s3v4",
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        # Presigned URLs live at most five minutes (private files such as attachments).
        "querystring_expire": 300,
    }
    DEFAULT_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
    PRIVATE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3_options, "location": "private"},
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    # Outside MEDIA_ROOT and without a URL: nothing here is ever served directly.
    PRIVATE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BASE_DIR / env_str("PRIVATE_MEDIA_DIR", "private-media"))},
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "private": PRIVATE_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Where uploaded media is served from, for the Content-Security-Policy: this site itself for
# local storage, else the S3 endpoint's origin (path-style addressing).
if AWS_STORAGE_BUCKET_NAME:
    _endpoint = env_str("AWS_S3_ENDPOINT_URL") or (
        f"https://s3.{env_str('AWS_S3_REGION_NAME', 'us-east-1')}.amazonaws.com"
    )
    _parsed_endpoint = urlsplit(_endpoint)
    MEDIA_ORIGIN = f"{_parsed_endpoint.scheme}://{_parsed_endpoint.netloc}"
else:
    MEDIA_ORIGIN = ""

# --- Cache, channel layer, Celery ---

REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "cloudfair")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"max_connections": env_int("REDIS_MAX_CONNECTIONS", 200)},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer: the list-based layer silently dropped group sends past about
            # 500/s per process in measurements here (see DESIGN.md).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL}],
                "prefix": f"{REDIS_KEY_PREFIX}:ws",
                "capacity": env_int("CHANNEL_LAYER_CAPACITY", 200),
            },
        }
    }
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://localhost/")
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "cloudfair")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 2}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "sessions-clear-expired": {
        "task": "fair.tasks.sessions_clear_expired",
        "schedule": timedelta(hours=6),
    },
    "visits-flush": {
        "task": "exhibitors.visits_flush",
        "schedule": timedelta(minutes=1),
    },
    "search-words-refresh": {
        "task": "exhibitors.tasks.search_words_refresh",
        "schedule": timedelta(hours=1),
    },
    "session-reminders-send": {
        "task": "livestream.tasks.reminders_send",
        "schedule": timedelta(minutes=1),
    },
    "negotiation-quotes-expire": {
        "task": "negotiations.tasks.quotes_expire",
        "schedule": timedelta(minutes=1),
    },
    "login-attempts-prune": {
        "task": "fair.tasks.login_attempts_prune",
        "schedule": timedelta(hours=1),
    },
}

# --- Mail ---

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CloudFair <noreply@cloudfair.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "100/min"),
        "user": env_str("API_THROTTLE_USER", "200/min"),
    },
    "NUM_PROXIES": AXES_IPWARE_PROXY_COUNT,
    "EXCEPTION_HANDLER": "fair.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CloudFair API",
    "DESCRIPTION": "The API of the CloudFair virtual trade fair.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Realtime ---

# Largest websocket text frame a consumer accepts (chat needs far less).
WEBSOCKET_MAX_MESSAGE_BYTES = env_int("WEBSOCKET_MAX_MESSAGE_BYTES", 64 * 1024)
# Sockets one signed-in user may hold open per endpoint (consumer), across all processes;
# one more is refused with close code 4429 (a page opens one per endpoint it uses).
WEBSOCKET_MAX_PER_USER = env_int("WEBSOCKET_MAX_PER_USER", 10)
# Threads per server process for websocket consumers' database work (fair/db_async.py).
REALTIME_DB_THREADS = env_int("REALTIME_DB_THREADS", 4)
# Seconds those threads keep a connection open (they live as long as the process).
REALTIME_DB_CONN_MAX_AGE = env_int("REALTIME_DB_CONN_MAX_AGE", 300)

# --- Organisers ---

# Announcement emails per Celery task (one mail connection each); seconds between the live
# dashboard's pushes (sent only when the figures changed).
ANNOUNCEMENT_EMAIL_BATCH = env_int("ANNOUNCEMENT_EMAIL_BATCH", 200)
DASHBOARD_TICK_SECONDS = env_int("DASHBOARD_TICK_SECONDS", 5)

# --- Negotiations ---

# The site's public address, for links in emails (e.g. https://fair.example.com).
SITE_URL = env_str("SITE_URL", "")
# Messages per user per minute in one-to-one negotiations; Redis pool per process for their
# presence and the count of every user's sockets (WEBSOCKET_MAX_PER_USER).
NEGO_MESSAGES_PER_MINUTE = env_int("NEGO_MESSAGES_PER_MINUTE", 60)
NEGO_PRESENCE_REDIS_MAX_CONNECTIONS = env_int("NEGO_PRESENCE_REDIS_MAX_CONNECTIONS", 10)
# Most websocket sends stored in one transaction (negotiations/send_batch.py; 1: each alone).
NEGO_SEND_BATCH_MAX = env_int("NEGO_SEND_BATCH_MAX", 64)

# --- Live video ---

# Stream rooms: seconds between viewer-count broadcasts (only when changed), socket
# heartbeat, age after which a socket counts as gone, Redis pool per process for presence.
LIVE_VIEWERS_INTERVAL = env_int("LIVE_VIEWERS_INTERVAL", 5)
LIVE_PRESENCE_HEARTBEAT_SECONDS = env_int("LIVE_PRESENCE_HEARTBEAT_SECONDS", 20)
LIVE_PRESENCE_STALE_SECONDS = env_int("LIVE_PRESENCE_STALE_SECONDS", 60)
LIVE_PRESENCE_REDIS_MAX_CONNECTIONS = env_int("LIVE_PRESENCE_REDIS_MAX_CONNECTIONS", 20)
# Stream-room chat: messages per user per room per window, sockets per user per room, the
# fan-out's batching tick (broadcasts within it share one frame), reaction totals interval.
LIVE_CHAT_RATE_COUNT = env_int("LIVE_CHAT_RATE_COUNT", 5)
LIVE_CHAT_RATE_SECONDS = env_int("LIVE_CHAT_RATE_SECONDS", 10)
LIVE_ROOM_MAX_SOCKETS_PER_USER = env_int("LIVE_ROOM_MAX_SOCKETS_PER_USER", 5)
LIVE_FANOUT_TICK_MS = env_int("LIVE_FANOUT_TICK_MS", 50)
LIVE_REACTIONS_INTERVAL = env_int("LIVE_REACTIONS_INTERVAL", 1)

# Shared secret the media server sends (header X-Media-Callback-Secret) on publish and
# publish-done callbacks; without it every callback is refused.
MEDIA_STREAM_CALLBACK_SECRET = env_str("MEDIA_STREAM_CALLBACK_SECRET")
# What encoders publish to (shown on the go-live page) and where viewers fetch HLS from.
MEDIA_RTMP_URL = env_str("MEDIA_RTMP_URL", "rtmp://127.0.0.1:1935/live")
MEDIA_HLS_URL = env_str("MEDIA_HLS_URL", "http://127.0.0.1:8080/hls")
# The nginx-rtmp control endpoint, to drop a publisher at once (suspension, an organiser's
# stop). Empty: the media server's on_update callback stops it within 10 s instead.
MEDIA_CONTROL_URL = env_str("MEDIA_CONTROL_URL", "")
# Folder where the media server writes recordings (made into replays by a Celery task).
MEDIA_RECORDINGS_DIR = env_str("MEDIA_RECORDINGS_DIR", "/var/rec")

# The HLS server's origin, for the Content-Security-Policy (players fetch playlists there).
_hls = urlsplit(MEDIA_HLS_URL)
MEDIA_HLS_ORIGIN = f"{_hls.scheme}://{_hls.netloc}" if _hls.scheme in ("http", "https") else ""

# Content-Security-Policy: no inline script or style anywhere, so it can be this strict.
# The one hash is the <style> element @google/model-viewer 4.4.0 puts in its shadow root
# (it changes with that package's version: update it when upgrading).
MODEL_VIEWER_STYLE_HASH = "'sha256-PXtZZkJMMyc18o/DN1ZEFOJ2qEGq95IQbVaJFMOXOb0='"
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self'; style-src 'self' {MODEL_VIEWER_STYLE_HASH}; "
    f"img-src 'self' data: blob: {MEDIA_ORIGIN}; "
    f"media-src 'self' blob: https: {MEDIA_ORIGIN} {MEDIA_HLS_ORIGIN}; "
    f"connect-src 'self' ws: wss: https: {MEDIA_ORIGIN} {MEDIA_HLS_ORIGIN}; "
    "font-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# --- Logging ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Messages are escaped, so a client's CR/LF or ANSI escapes cannot forge or colour a line
    # (SECURITY J3, fair.security_log).
    "formatters": {
        "plain": {
            "class": "fair.security_log.EscapingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"control_chars": {"()": "fair.security_log.ControlCharsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        # Security events (SECURITY J1-J2): kept at INFO whatever LOG_LEVEL says.
        "cloudfair.security": {"level": "INFO", "filters": ["control_chars"]},
    },
}
