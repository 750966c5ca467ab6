"""gigacity settings: one module, driven by the environment.

Every variable is listed in `.env.example`. With nothing set, the app runs on a SQLite file in the
checkout with Celery tasks executed in-process, so a newcomer needs nothing but Python.
`DJANGO_DEBUG=0` switches production hardening on and then refuses to start without a secret key
and allowed hosts.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# GENERAL
# ------------------------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)

if DEBUG:
    # A development key: never used in production, where DJANGO_SECRET_KEY is required below.
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production"
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
else:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG=0 (production). "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG=0 (production): "
            "a comma-separated list such as gigacity.example.gov.cn"
        )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "gigacity.apps.AdminConfig",  # django.contrib.admin, with our site (gigacity.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # Our apps, in dependency order: each may use the ones above it, never the ones below.
    "gigacity",
    "indicators",
    "submissions",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gigacity.audit.context.AuditContextMiddleware",
    "gigacity.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "gigacity.middleware.ApplicationErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires, so it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gigacity.urls"
WSGI_APPLICATION = "gigacity.wsgi.application"
ASGI_APPLICATION = "gigacity.asgi.application"
AUTH_USER_MODEL = "gigacity.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "reviews.context_processors.navigation",
            ],
        },
    },
]

# DATABASE
# ------------------------------------------------------------------------------------------------
# DATABASE_URL unset: a SQLite file in the checkout (var/ is ignored by git).
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'gigacity.sqlite3'}",
        conn_max_age=env_int("DJANGO_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite is the embedded default for one person on a laptop; wait for the write lock instead of
    # failing at once when the in-process task and the request write at the same moment.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL;"

USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))
if env_bool("DJANGO_DB_TRANSACTION_POOLING", False):
    # Behind pgbouncer in transaction mode (docs/scaling.md): a server connection serves other clients
    # between transactions, so nothing may outlive one — no connection kept by Django, no server-side
    # cursor, no prepared statement (`gigacity.statements.prepared` reads this flag).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# AUTHENTICATION
# ------------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A password reset link works once, and only for this long (Django's PasswordResetTokenGenerator).
PASSWORD_RESET_TIMEOUT = env_int("GIGACITY_PASSWORD_RESET_MINUTES", 60) * 60
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection. Keyed on username *and* IP: a city office behind one NAT address must not
# be locked out because one colleague mistyped; a cool-off rather than a permanent lock, so nobody
# waits for an administrator (reliability.md P-3).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gigacity.views.lockout"
# Credential stuffing: an address on which this many different usernames failed within the cool-off
# is paused for the cool-off, except for accounts that logged in on that browser before. Much higher
# than the limit per account, and counting usernames, not attempts: the reasons are in gigacity.lockout.
AXES_HANDLER = "gigacity.lockout.LockoutHandler"
GIGACITY_LOGIN_ADDRESS_LIMIT = env_int("GIGACITY_LOGIN_ADDRESS_LIMIT", 20)
GIGACITY_DEVICE_COOKIE_NAME = "gigacity_device"
GIGACITY_DEVICE_COOKIE_AGE = 90 * 24 * 3600
# Behind DJANGO_PROXY_COUNT trusted proxies, the client's address is taken from X-Forwarded-For
# (gigacity.security); otherwise everyone would share the proxy's address and one person's mistakes
# would lock an account for all.
GIGACITY_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "gigacity.security.client_ip"
AXES_VERBOSE = False

# Sessions: 8 hours idle, 12 hours at most since login (SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_MINUTES", 8 * 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = env_int("DJANGO_SESSION_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# INTERNATIONALISATION
# ------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True
LANGUAGE_COOKIE_NAME = "gigacity_language"

# STATIC AND PRIVATE FILES
# ------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
if DEBUG:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing one; in development it stays empty
# Uploaded attachments are private: they live outside any served directory and are only ever sent
# by a view that checks the caller's scope. There is deliberately no MEDIA_URL route.
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "gigacity.storage.StaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Upload limits, enforced by the application (file data is not counted by
# DATA_UPLOAD_MAX_MEMORY_SIZE, so the views check the file size themselves).
GIGACITY_MAX_WORKBOOK_BYTES = env_int("GIGACITY_MAX_WORKBOOK_MB", 10) * 1024 * 1024
GIGACITY_MAX_ATTACHMENT_BYTES = env_int("GIGACITY_MAX_ATTACHMENT_MB", 20) * 1024 * 1024
# The Chromium program that prints forms to PDF (gigacity.pdf); unset: chromium found on PATH.
GIGACITY_CHROMIUM = os.environ.get("GIGACITY_CHROMIUM", "")
DATA_UPLOAD_MAX_NUMBER_FILES = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# SECURITY
# ------------------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    if env_bool("DJANGO_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
    if not SECURE_HSTS_PRELOAD:
        # Leaving the browsers' preload list is a deliberate choice (it is hard to undo); say so once.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix binds the cookies to this exact host over HTTPS (ASVS 3.3.1).
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    GIGACITY_DEVICE_COOKIE_NAME = "__Host-gigacity_device"

# Content Security Policy (django-csp 4): scripts only from our own origin, never inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # ECharts and the admin set style attributes; styles cannot run code.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# E-MAIL
# ------------------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "千兆城市评估系统 <noreply@localhost>")
GIGACITY_SITE_URL = os.environ.get("GIGACITY_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# CACHE
# ------------------------------------------------------------------------------------------------
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
        if REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# CELERY
# ------------------------------------------------------------------------------------------------
# The database row is the truth; the broker only wakes the worker (reliability.md §4.3). Without a
# broker, tasks run in-process so the app works with nothing else installed.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
# Even eager tasks take a producer from the pool; the in-memory transport keeps that off the network.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
# Redis redelivers an unacknowledged task after the visibility timeout: it must exceed the longest a
# task may run, and the docs ask for the same value in all three places.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A request publishes while Redis may be down: every wait on the broker is short and bounded.
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    # Reconnecting when a channel is needed: once, at once. Without these kombu waits 2 s between
    # attempts, which a request publishing while Redis is down would spend waiting.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish while Redis is down must fail fast, not hang the request; the sweep publishes again.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# When the worker loses Redis, a running task could not be acknowledged anyway: stop it and let it be
# delivered again (the claim step makes that safe). This is Celery 6's default; saying so silences
# the warning Celery 5 prints at every start.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# How often beat runs the sweep that publishes again what waited too long (seconds).
GIGACITY_SWEEP_SECONDS = env_int("GIGACITY_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-scoring": {"task": "submissions.tasks.sweep_stale_scoring", "schedule": float(GIGACITY_SWEEP_SECONDS)},
    "deadline-reminders": {"task": "reviews.tasks.send_deadline_reminders", "schedule": 3600.0},
    "sweep-exports": {"task": "reviews.tasks.sweep_exports", "schedule": 120.0},
    "audit-expired-sessions": {"task": "gigacity.tasks.sweep_expired_sessions", "schedule": 900.0},
    "audit-prune": {"task": "gigacity.tasks.prune_audit_trail", "schedule": 86400.0},
}
# Scoring: how many times a submission may be attempted before it is marked failed, and how long a
# pending submission may wait before the sweep publishes it again (longer than the task time limit,
# so that the sweep does not publish again what a worker is still scoring).
GIGACITY_SCORING_MAX_ATTEMPTS = env_int("GIGACITY_SCORING_MAX_ATTEMPTS", 5)
GIGACITY_SCORING_LEASE_SECONDS = env_int("GIGACITY_SCORING_LEASE_SECONDS", 300)

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call then answers 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gigacity.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "gigacity.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "gigacity.schema.AutoSchema",  # declares each operation's errors
    "EXCEPTION_HANDLER": "gigacity.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "gigacity.api.ContentNegotiation",
    "DEFAULT_THROTTLE_RATES": {"login": "30/min"},
    # The same trusted proxies as for lockouts; 0 means REMOTE_ADDR, never a header the client wrote.
    "NUM_PROXIES": GIGACITY_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API tokens expire after this many days; logging in again at /api/v1/auth/token/ gives a new one.
GIGACITY_API_TOKEN_DAYS = env_int("GIGACITY_API_TOKEN_DAYS", 30)
SPECTACULAR_SETTINGS = {
    "TITLE": "gigacity API",
    "DESCRIPTION": "千兆城市建设情况总结评估系统 JSON API. Session or token authentication "
    "(POST /api/v1/auth/token/ with username and password; send `Authorization: Token <token>`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies say `additionalProperties: false`: the API refuses unknown keys (never drops them).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gigacity.schema.closed_request_bodies",
        "gigacity.schema.nonempty_uploads",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CityKindEnum": "gigacity.models.CityKind",
        "ExportKindEnum": "reviews.models.ExportKind",
        "FiguresCheckEnum": "submissions.models.FiguresCheck",
    },
}

# LOGGING
# ------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"class": "gigacity.logs.ConsoleFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's defaults give "django" a console handler of its own beside the root's (in development
        # every request warning was written twice) and a mail handler for ADMINS, which we do not set:
        # naming the logger here removes both, so its records are written once, by the root's handler.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
    },
}

# SECURITY AUDIT TRAIL AND BACKUPS
# ------------------------------------------------------------------------------------------------
# Days the audit trail is kept; a daily task removes older records. 等保 2.0 asks for at least six
# months, and the database refuses to delete a record younger than 180 days whatever this says.
GIGACITY_AUDIT_RETENTION_DAYS = env_int("GIGACITY_AUDIT_RETENTION_DAYS", 180)
# Where `manage.py backup` writes its archives, and how many days of them it keeps.
GIGACITY_BACKUP_DIR = Path(os.environ.get("GIGACITY_BACKUP_DIR", BASE_DIR / "var" / "backups"))
GIGACITY_BACKUP_KEEP_DAYS = env_int("GIGACITY_BACKUP_KEEP_DAYS", 14)

# Labels shown on the login page and in e-mails.
GIGACITY_SYSTEM_NAME = _("Gigabit City Evaluation System")
