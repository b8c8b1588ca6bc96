"""pcc_perf settings. Everything that differs between machines comes from the environment.

- ``DATABASE_URL``: ``sqlite:////abs/path.sqlite3`` or ``postgres://user@host:port/name``; SQLite in the
  project folder when unset.
- ``DJANGO_DEBUG``: ``1`` for the local demo (``make run``); off otherwise.
- ``DJANGO_SECRET_KEY``: required unless debugging or testing.
- ``DJANGO_ALLOWED_HOSTS``: comma-separated host names.
- ``REDIS_URL``: ``redis://host:6379/0``: the cache shared by every gunicorn worker (page evidence keyed by
  the approved-data version); each process keeps its own local-memory cache when unset.
- ``PCC_PERF_PAGE_CACHE_SECONDS``: how long a cached page part is kept (default 3600; 0 turns caching off).
"""

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import plotly
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from .oidc import BACKEND as OIDC_BACKEND
from .oidc import oidc_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]
DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-local-only-key-do-not-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for a local run).")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
if DEBUG or TESTING:
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "pcc_perf.apps.PccAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_forms_gds",
    "axes",
    "accounts",
    "frameworks",
    "metrics",
    "reports",
    # After reports: reports' `db_worker` (the same worker, which also fails work whose worker stopped)
    # takes the place of django_tasks_db's.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # HTML and JSON compressed (a 255 KB priority page is ~25 KB gzipped). BREACH: Django's GZipMiddleware
    # pads each response's gzip header by a random length (Heal The Breach) and CSRF tokens are masked
    # afresh on every response, so a secret is never compressed the same way twice. After WhiteNoise
    # (inserted before it below), which serves static files precompressed, so they never pass through here.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.CurrentPartnershipMiddleware",  # the partnership every query below works in
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "accounts.middleware.ImmutableRefusalMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out log-in into the login page saying so
]

if not DEBUG and not TESTING:
    # Production serves static files itself (collectstatic first); runserver and tests use the finders.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "pcc_perf.urls"

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
                "django.template.context_processors.csp",
                "frameworks.context_processors.access",
                "frameworks.context_processors.public_links",
                "metrics.context_processors.nav_counts",
            ],
        },
    },
]

# Forms are rendered by django-crispy-forms with the GOV.UK Design System template pack (crispy-forms-gds):
# one accessible pattern for fields, hints, errors and the error summary across the app.
CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

WSGI_APPLICATION = "pcc_perf.wsgi.application"

# Persistent connections outside debug (a new PostgreSQL connection per request costs more than most pages'
# SQL): DATABASE_CONN_MAX_AGE seconds (default 60; 0 closes after each request, as runserver's thread per
# request needs), checked before reuse so a connection the server dropped is replaced, not an error.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0" if DEBUG or TESTING else "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked-out account before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

# Sign-in with the organisation's identity provider (OpenID Connect), only when OIDC_RP_CLIENT_ID and the rest
# are set (pcc_perf/oidc.py, README "Sign-in with your organisation's account"); passwords keep working.
_OIDC = oidc_settings(os.environ)
globals().update(_OIDC)
OIDC_ENABLED: bool = _OIDC["OIDC_ENABLED"]
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append(OIDC_BACKEND)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Pages draw charts with plotly.js's basic bundle (scatter, bar, pie), vendored from npm in static/vendor/plotly
# (1.2 MB, not the 4.7 MB full bundle). The full bundle the plotly package ships stays collected at
# /static/plotly/plotly.min.js for anything that needs other trace types; the PDF uses it through kaleido.
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(plotly.__file__).parent / "package_data")]
# The cache: what every reader of a dashboard page shares (its evidence, rendered), keyed by the approved-data
# version (accounts/versions.py), so nothing is ever deleted by hand: a change moves the version on and every
# process reads it in one query. Redis when REDIS_URL is set (shared by all workers and servers); else each
# process's local memory. Tests get no cache unless a test asks for one (the counter row rolls back with
# each test, so a kept cache would serve one test's page to the next).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
PAGE_CACHE_SECONDS = int(os.environ.get("PCC_PERF_PAGE_CACHE_SECONDS", "3600"))
CACHES: dict[str, dict[str, Any]]
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pcc_perf",
            "TIMEOUT": PAGE_CACHE_SECONDS,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pcc_perf",
            "TIMEOUT": PAGE_CACHE_SECONDS,
            "OPTIONS": {"MAX_ENTRIES": 500},
        }
    }

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("PCC_PERF_MEDIA_ROOT", BASE_DIR / "media"))

# Content-Security-Policy: our own scripts carry a nonce; plotly.js needs inline styles and nothing else.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Secure defaults outside the local run.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not TESTING:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_in_one_line": {"()": "accounts.errors.RefusalsInOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    "loggers": {
        # One line per board pack built (pages, measures, charts, size, time).
        "reports.packs": {"level": "INFO"},
        # A 403 or 400 is one line ("Forbidden (Permission denied): /path"), not a traceback.
        "django.request": {"filters": ["refusals_in_one_line"]},
    },
}

# pcc_perf's own settings.
# Counts from 1 to this number are suppressed in public outputs; disproportionality ratios need a count above it.
PCC_PERF_SUPPRESSION_THRESHOLD = int(os.environ.get("PCC_PERF_SUPPRESSION_THRESHOLD", "4"))
PCC_PERF_PROTECTIVE_MARKING = os.environ.get("PCC_PERF_PROTECTIVE_MARKING", "OFFICIAL")
# The partnership (LCJB) that frameworks, users and commands belong to when none is named (made by migration).
PCC_PERF_DEFAULT_PARTNERSHIP = os.environ.get("PCC_PERF_DEFAULT_PARTNERSHIP", "default")
# A figure older than the quarter read by more than this many quarters is shown as "latest available",
# greyed, never ranked and left out of the improvement/concern counts.
PCC_PERF_STALE_QUARTERS = int(os.environ.get("PCC_PERF_STALE_QUARTERS", "4"))
# kaleido tabs drawing a board pack's charts at once. Two drew no faster on a 2-core machine, busy or idle,
# and took ~85-120 MB more (PSS): one unless set.
PCC_PERF_PACK_TABS = int(os.environ.get("PCC_PERF_PACK_TABS", "1"))
# A value that changes by more than this % on the previous quarter is a warning that needs a comment.
PCC_PERF_CHANGE_WARNING_PERCENT = float(os.environ.get("PCC_PERF_CHANGE_WARNING_PERCENT", "25"))
# Uploads larger than this are refused.
PCC_PERF_MAX_UPLOAD_MB = float(os.environ.get("PCC_PERF_MAX_UPLOAD_MB", "20"))
# Files with more rows than this are checked and written by a background task, with a progress bar.
PCC_PERF_BACKGROUND_ROWS = int(os.environ.get("PCC_PERF_BACKGROUND_ROWS", "5000"))
# After writing at least this many rows (a return's values, an approval), PostgreSQL's planner statistics of the
# tables written are refreshed (ANALYZE).
PCC_PERF_ANALYZE_ROWS = int(os.environ.get("PCC_PERF_ANALYZE_ROWS", "10000"))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(PCC_PERF_MAX_UPLOAD_MB * 1024 * 1024) + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Background work (board packs, large imports): django.tasks with a database-backed worker
# (`manage.py db_worker`, started by `make run`); tests run tasks at once.
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend"
        if TESTING
        else os.environ.get("PCC_PERF_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Work a worker has started (a board pack being built, an upload being checked or written) beats a heartbeat
# every sixth of this many seconds; with no heartbeat for this long its worker is taken to have stopped, and
# the work is failed with a message and can be tried again (any worker checks, and so do its pages).
PCC_PERF_TASK_STALE_SECONDS = float(os.environ.get("PCC_PERF_TASK_STALE_SECONDS", "120"))

# E-mail: SMTP in production. In the local demo (DJANGO_DEBUG=1) every e-mail the app sends (round opened,
# reminders, returns sent back or approved) is written as a file to PCC_PERF_MAIL_DIR (var/mail/), to read.
EMAIL_BACKEND_NAME = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
MAIL_DIR = os.environ.get("PCC_PERF_MAIL_DIR", str(BASE_DIR / "var" / "mail"))
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_NAME,
        "OPTIONS": {
            key: value
            for key, value in {
                "file_path": MAIL_DIR if EMAIL_BACKEND_NAME.endswith("filebased.EmailBackend") else None,
                "host": os.environ.get("DJANGO_EMAIL_HOST"),
                "port": int(os.environ["DJANGO_EMAIL_PORT"]) if os.environ.get("DJANGO_EMAIL_PORT") else None,
                "username": os.environ.get("DJANGO_EMAIL_USER"),
                "password": os.environ.get("DJANGO_EMAIL_PASSWORD"),
                "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False) or None,
            }.items()
            if value is not None
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "pcc-perf@localhost")
PCC_PERF_SITE_URL = os.environ.get("PCC_PERF_SITE_URL", "http://127.0.0.1:8000")

# Login throttling (django-axes): after PCC_PERF_LOGIN_FAILURE_LIMIT failed log-ins for a username (from any
# address) the account is locked for PCC_PERF_LOGIN_LOCKOUT_MINUTES after the last failure; the login page says
# so and for how long, and the lockout is audited. `manage.py axes_reset_username NAME` unlocks at once.
# Off in tests (the test client's login has no request); tests/accounts/test_login_throttling.py turns it on.
AXES_ENABLED = env_bool("PCC_PERF_LOGIN_THROTTLING", not TESTING)
AXES_FAILURE_LIMIT = int(os.environ.get("PCC_PERF_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("PCC_PERF_LOGIN_LOCKOUT_MINUTES", "15")))
# By username alone: a guessed account is locked whatever address the guesses come from. Not by address: behind
# a proxy every user shares one, and one person's typos would lock everybody out (hence axes.W006 silenced).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False
