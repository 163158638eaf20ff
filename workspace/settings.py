"""Consilium settings, read from environment variables.

With no variables set Consilium runs embedded: SQLite, the in-memory channel
layer, a local-memory cache and private files under ``var/``. ``DATABASE_URL``,
``REDIS_URL`` and the ``S3_*`` variables switch each part to its scale-mode
service independently (see the settings table in DESIGN.md).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from workspace.audit_keys import parse_previous_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONSILIUM_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# ``make run`` sets CONSILIUM_LOCAL=1: the demo on this machine over plain
# http, with DEBUG off by default so people see the friendly error pages
# (``DEBUG=1 make run`` brings back Django's technical pages).
LOCAL = env_bool("CONSILIUM_LOCAL", False)
DEBUG = env_bool("DEBUG", not LOCAL)
_DEV_SECRET = "django-insecure-consilium-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or _DEV_SECRET


def _local_secret() -> str:
    """A random key for local runs, made once and kept in VAR_DIR."""
    import secrets

    path = VAR_DIR / "local-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if not DEBUG and SECRET_KEY == _DEV_SECRET:
    if not LOCAL:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _local_secret()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG or LOCAL else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_tasks_db",
    "axes",
    "workspace",
    "workspace.mail",
    "media_handling",
    # Each app builds only on the ones above it (see README, "Apps").
    "cases",
    "diagnoses",
    "consults",
    "portal",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Needs request.user: the profile's zone comes before the browser's.
    "workspace.time_zones.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workspace.urls"
ASGI_APPLICATION = "workspace.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workspace.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=60, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "consilium.sqlite3",
            # Reusing connections matters under Channels: every database call
            # from a consumer would otherwise open and close SQLite.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # WAL lets the task worker and the web server read while one writes.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Channels and cache -----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("CHANNELS_PREFIX", "consilium"),
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "consilium"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "consilium",
        }
    }

# --- Storage ----------------------------------------------------------------------
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
S3_BUCKET = os.environ.get("S3_BUCKET", "")
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
S3_REGION = os.environ.get("S3_REGION", "")
# Presigned media URLs live for minutes, so a leaked link soon stops working.
MEDIA_URL_EXPIRY_SECONDS = int(os.environ.get("MEDIA_URL_EXPIRY_SECONDS", "300"))
_static_backend = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG or LOCAL
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
if LOCAL and not DEBUG:
    # No collectstatic for the local demo: WhiteNoise serves the source files.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
if S3_BUCKET:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
                "region_name": os.environ.get("S3_REGION") or None,
                "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
                "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": MEDIA_URL_EXPIRY_SECONDS,
                "signature_version": "s3v4",
                "file_overwrite": False,
                "addressing_style": os.environ.get("S3_ADDRESSING_STYLE", "path"),
            },
        },
        "staticfiles": {"BACKEND": _static_backend},
    }
else:
    STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # No base_url: local media is never served directly, only through
            # the permission-checked media views.
            "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
        },
        "staticfiles": {"BACKEND": _static_backend},
    }

# Uploads larger than this spool to a temp file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
MEDIA_MAX_IMAGE_BYTES = int(os.environ.get("MEDIA_MAX_IMAGE_BYTES", 50 * 1024**2))
MEDIA_MAX_VIDEO_BYTES = int(os.environ.get("MEDIA_MAX_VIDEO_BYTES", 2 * 1024**3))
MEDIA_MAX_DICOM_BYTES = int(os.environ.get("MEDIA_MAX_DICOM_BYTES", 2 * 1024**3))
# Files larger than one part go up part by part (one request per part), so no
# request body is ever larger: Daphne holds a whole body in memory. In S3 mode
# the parts go from the browser straight to S3 (presigned multipart upload);
# S3 needs parts of at least 5 MiB.
MEDIA_UPLOAD_PART_BYTES = int(os.environ.get("MEDIA_UPLOAD_PART_BYTES", 8 * 1024**2))
# Any one request body (``workspace.asgi_body``): larger ones get 413 and are
# told to use an upload session. Every upload page sends large files in
# parts, so the cap only has to admit one part or one image sent by a form
# without JavaScript (plus the multipart envelope).
REQUEST_BODY_MAX_BYTES = int(
    os.environ.get(
        "REQUEST_BODY_MAX_BYTES",
        max(MEDIA_MAX_IMAGE_BYTES, MEDIA_UPLOAD_PART_BYTES) + 2 * 1024**2,
    )
)
MEDIA_DIRECT_UPLOADS = env_bool("MEDIA_DIRECT_UPLOADS", True)
MEDIA_UPLOAD_SESSION_TTL_SECONDS = int(
    os.environ.get("MEDIA_UPLOAD_SESSION_TTL_SECONDS", 24 * 3600)
)
# Per user: upload sessions open at once, and the bytes they declare together
# (unset: twice the largest per-file cap). Past either, starting one more gets
# a 429 until one finishes, is cancelled or expires.
MEDIA_UPLOAD_MAX_OPEN_SESSIONS = int(
    os.environ.get("MEDIA_UPLOAD_MAX_OPEN_SESSIONS", 8)
)
MEDIA_UPLOAD_MAX_OPEN_BYTES = int(os.environ.get("MEDIA_UPLOAD_MAX_OPEN_BYTES", 0))
# A DICOM zip archive's members and their extracted bytes (counted while
# extracting, not taken from the archive's headers), and the largest
# uncompressed/compressed ratio of a member over 1 MiB. Archives inside an
# archive are never expanded.
MEDIA_DICOM_ZIP_MAX_MEMBERS = int(os.environ.get("MEDIA_DICOM_ZIP_MAX_MEMBERS", 10_000))
MEDIA_DICOM_ZIP_MAX_BYTES = int(
    os.environ.get("MEDIA_DICOM_ZIP_MAX_BYTES", 4 * MEDIA_MAX_DICOM_BYTES)
)
MEDIA_DICOM_ZIP_MAX_RATIO = int(os.environ.get("MEDIA_DICOM_ZIP_MAX_RATIO", 1000))
# Frames of a video that face detection looks at, at most (about one a second).
MEDIA_VIDEO_FACE_SAMPLES = int(os.environ.get("MEDIA_VIDEO_FACE_SAMPLES", "60"))

# --- Tasks ------------------------------------------------------------------------
_TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "db")
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}

# --- Auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "workspace.User"
# django-axes first: it refuses a locked-out username+address before any
# password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is refused for AXES_COOLOFF_MINUTES.
# Counts live in Redis in scale mode (shared by every process) and in the
# database when embedded (the local-memory cache isn't shared between them).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = (
    "axes.handlers.cache.AxesCacheHandler"
    if REDIS_URL
    else "axes.handlers.database.AxesDatabaseHandler"
)
AXES_LOCKOUT_CALLABLE = "workspace.views.login_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# The same address the audit trail records (REMOTE_ADDR), never a header a
# client can write.
AXES_CLIENT_IP_CALLABLE = "workspace.audit.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or LOCAL
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Consilium <no-reply@localhost>"
)
# Links in e-mails are absolute: tasks and commands have no request to ask.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
# A mention still unread this long, by someone with no page open, is e-mailed
# (one digest with every unread mention since the last one).
NOTIFICATION_DIGEST_MINUTES = int(os.environ.get("NOTIFICATION_DIGEST_MINUTES", "5"))
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # The page's JavaScript sends the token in a header.

# --- Security ---------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG and not LOCAL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:", "https:"],
    "media-src": [CSP.SELF, "blob:", "https:"],
    "connect-src": [CSP.SELF, "ws:", "wss:", "https:"],
    "frame-src": [
        "https://www.youtube-nocookie.com",
        "https://www.tiktok.com",
        "https://www.instagram.com",
        "https://www.reddit.com",
        "https://embed.reddit.com",
        "https://platform.twitter.com",
        "https://www.facebook.com",
    ],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if S3_BUCKET and S3_ENDPOINT_URL:
    # Presigned media URLs point at the S3 endpoint, which need not be https
    # (MinIO, moto): let pages load and upload media there.
    for _directive in ("img-src", "media-src", "connect-src"):
        SECURE_CSP[_directive].append(S3_ENDPOINT_URL.rstrip("/"))

# --- I18N -------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Every login is logged at INFO otherwise; lockouts stay visible.
        "axes": {"level": "WARNING"},
    },
}

# --- Consilium ----------------------------------------------------------------------
# Messages a user may send per window on the WebSocket before `rate_limited`.
MESSAGE_RATE_LIMIT = int(os.environ.get("MESSAGE_RATE_LIMIT", "20"))
MESSAGE_RATE_WINDOW_SECONDS = int(os.environ.get("MESSAGE_RATE_WINDOW_SECONDS", "10"))
# Edits and deletes of one's own messages, together.
MESSAGE_CHANGE_RATE_LIMIT = int(os.environ.get("MESSAGE_CHANGE_RATE_LIMIT", "20"))
MESSAGE_CHANGE_RATE_WINDOW_SECONDS = int(
    os.environ.get("MESSAGE_CHANGE_RATE_WINDOW_SECONDS", "10")
)
# New discussion topics.
TOPIC_RATE_LIMIT = int(os.environ.get("TOPIC_RATE_LIMIT", "5"))
TOPIC_RATE_WINDOW_SECONDS = int(os.environ.get("TOPIC_RATE_WINDOW_SECONDS", "60"))
# The largest WebSocket frame the consumers read (UTF-8 bytes); a larger one
# gets a `too_long` error frame. Daphne's own limit must stay above it: Daphne
# drops the connection (1006 in the browser) for a message over its limit,
# before the app sees it. deploy/ passes --websocket-max-message-size 1048576,
# and `manage.py runserver` reads the DAPHNE_ settings below.
WS_MAX_FRAME_BYTES = int(os.environ.get("WS_MAX_FRAME_BYTES", str(256 * 1024)))
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = 1024 * 1024
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = 1024 * 1024
PATIENT_INVITE_TTL_DAYS = int(os.environ.get("PATIENT_INVITE_TTL_DAYS", "14"))
# How long an e-mail confirmation link works.
EMAIL_CONFIRM_MAX_AGE_DAYS = int(os.environ.get("EMAIL_CONFIRM_MAX_AGE_DAYS", "3"))

# The audit chain is sealed with HMAC-SHA256 under this key (see README,
# "Audit trail keys"). Unset, a key derived from SECRET_KEY is used (id "sk"),
# which `check --deploy` refuses: rotating SECRET_KEY would then orphan the
# chain. AUDIT_HMAC_PREVIOUS_KEYS ("id:key,id:key", oldest first) keeps
# retired keys so the events they sealed still verify.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
AUDIT_HMAC_KEY_ID = os.environ.get("AUDIT_HMAC_KEY_ID", "1")
AUDIT_HMAC_PREVIOUS_KEYS = parse_previous_keys(
    os.environ.get("AUDIT_HMAC_PREVIOUS_KEYS", "")
)

VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
