"""Settings for the Breast Surveillance Tracker, read from the environment.

One module for every deployment: development, CI and production differ only in
environment values (see docs/configuration.md). Nothing exists only in production.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file is convenient for development; real deployments set the environment.
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))


DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    key_file = env.str("SECRET_KEY_FILE", default="")
    if key_file:
        return Path(key_file).read_text().strip()
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if DEBUG:
        return "django-insecure-dev-only-change-me"
    # Sessions, password-reset links and signed values would all rest on a key everyone
    # knows: refuse to start. `make run` and the test suite set their own key.
    raise ImproperlyConfigured("Set SECRET_KEY or SECRET_KEY_FILE (or DEBUG=true for development).")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # The tracker's layers, bottom to top (docs/architecture.md; `.importlinter` enforces
    # that each imports only those below it).
    "core",
    "audit",
    "outbox",
    "patients",
    "imaging",
    "alerts",
    "surveillance",
    "outreach",
    "cohort",
    "clinic",
    "api",
    "registry",
    "feeds",
]
# Development apps: the demo data and the benchmark. Off unless asked for (`make run`,
# `make bench` and the test suite turn them on), so a clinic's database gets none of
# their tables and commands.
DEV_APPS = env.bool("TRACKER_DEV_APPS", default=False)
if DEV_APPS:
    INSTALLED_APPS += ["demo", "bench"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.twofactor.TwoFactorMiddleware",
    "core.middleware.IdleTimeoutMiddleware",
    "core.middleware.NoStoreMiddleware",
    "core.middleware.RoleRequiredMiddleware",
    "audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

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
                "core.permissions.capabilities",
                "clinic.navigation.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite file under var/ by default; clinics and CI set DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'tracker.sqlite3'}")
}
# The tables' owner, for `manage.py migrate` only (audit/management/commands/migrate.py):
# the application's own role (DATABASE_URL) may not alter tables nor erase the audit
# trail (docs/deployment.md, "Database roles"). Unset: migrate connects as DATABASE_URL.
MIGRATE_DATABASE = (env.db_url("MIGRATE_DATABASE_URL") if env.str("MIGRATE_DATABASE_URL", default="")
                    else None)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A persistent connection is checked before each request reuses it: after a database
# restart the first request gets a new connection instead of a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL session settings for every connection, as libpq's `options`, e.g.
# DATABASE_PG_OPTIONS="-c jit=off -c work_mem=64MB" (docs/deployment.md, "PostgreSQL
# settings"). Tuning belongs to the deployment, not to the code.
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    pg_options = env.str("DATABASE_PG_OPTIONS", default="")
    if pg_options:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = pg_options
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the Celery worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so the real Celery worker of the fault tests can open it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test_tracker.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "core.auth.ThrottledLoginBackend",  # django-axes: lockout after repeated failures
    "django.contrib.auth.backends.ModelBackend",
]
# The client's address (core/clientip.py): the proxy's header (`X-Real-IP` by default) is
# believed only from these proxies (addresses or networks); the documented nginx runs on
# the same host. Set TRUSTED_PROXIES to the proxy's address when it runs elsewhere.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
CLIENT_IP_HEADER = "HTTP_" + env.str("CLIENT_IP_HEADER", default="X-Real-IP").upper().replace("-", "_")
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"
# An account is locked out from an address after AXES_FAILURE_LIMIT failures; an address
# after LOGIN_SOURCE_FAILURE_LIMIT failures over every account (password spraying).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_SOURCE_FAILURE_LIMIT = env.int("LOGIN_SOURCE_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Two-factor authentication (core/twofactor.py): radiologists, administrators, staff
# and superusers give a code from an authenticator app after their password. On unless
# DEBUG; `make run` turns it off for the demo logins (README).
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Breast Surveillance Tracker")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Sessions end after 8 hours, or after 30 minutes without a request (IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- I18N -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# The pages are in English; letters to patients are written in their preferred language
# (patients.vocabulary.PreferredLanguage), from the catalogues in outreach/locale
# (`manage.py compilemessages` builds them; `make run` and `make test` do it).
LANGUAGES = [("en-gb", "English"), ("fr", "French"), ("es", "Spanish")]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static files (served locally: clinics are often offline) --------------------------
# `collectstatic` (make run and every deployment run it) writes each file under a name
# carrying a hash of its content, with gzip and Brotli copies; WhiteNoise serves those
# compressed and cached for a year (a changed file gets a new name). Under DEBUG, and in
# the test suite (pyproject.toml), files are served as they are, without collectstatic.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default=("django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                     else "whitenoise.storage.CompressedManifestStaticFilesStorage"),
        )
    },
}

# --- Email ----------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail:///" + str(BASE_DIR / "var" / "mail"))
if EMAIL_CONFIG.get("EMAIL_BACKEND") == "django.core.mail.backends.filebased.EmailBackend":
    EMAIL_FILE_PATH = EMAIL_CONFIG.get("EMAIL_FILE_PATH") or str(BASE_DIR / "var" / "mail")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tracker@localhost")
# Where `make run` serves (bin/run.py, Procfile), and the address links in e-mails and the
# calendar feed start with: the served address unless SITE_URL says otherwise (behind a
# proxy, or when serving on all interfaces, set SITE_URL to the address people use).
TRACKER_BIND = env.str("TRACKER_BIND", default="127.0.0.1:8000")


def _site_url_for(bind: str) -> str:
    host, _, port = bind.rpartition(":")
    if host in ("0.0.0.0", "[::]", ""):
        host = "localhost"
    return f"http://{host}:{port}" if port else f"http://{bind}"


SITE_URL = env.str("SITE_URL", default=_site_url_for(TRACKER_BIND)).rstrip("/")

# --- Celery (cookiecutter-django's settings) -------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=5 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=4 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Fail fast when the broker is down or hung (accepts connections, never answers): a
# request that signs a study queues its task after commit and must not wait on Redis.
# The outbox sweep delivers what could not be queued (docs/alerts.md).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1, "interval_start": 0, "interval_step": 0.2,
    # Seconds a connect, and any command (a publish), may take. Longer than the worker's
    # BRPOP wait (1 s), so an idle worker is not cut off.
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2),
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3),
    # How long an unacknowledged task waits before Redis redelivers it (after a worker
    # was killed). Must exceed the longest retry countdown (10 minutes).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_TIMEZONE = TIME_ZONE
# Without Redis, `make run` sets this so the demo still works in-process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE: dict = {
    # Outbox events left unprocessed (broker or worker down), then unsent notifications.
    "sweep-outbox": {
        "task": "outbox.tasks.sweep_outbox",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=120),
    },
    "sweep-notifications": {
        "task": "alerts.tasks.sweep_notifications",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=120),
    },
    # Registry uploads that no worker took (broker down at commit) or finished (worker died).
    "requeue-registry-uploads": {
        "task": "registry.tasks.requeue_registry_uploads",
        "schedule": env.int("OUTBOX_SWEEP_SECONDS", default=120),
    },
    # Programme quality: the adherence counts, after the morning's sweep (issue 21).
    "cohort-adherence": {
        "task": "cohort.tasks.rebuild_adherence",
        "schedule": crontab(hour=env.int("SURVEILLANCE_SWEEP_HOUR", default=6), minute=30),
    },
    # Biopsies ordered by an alert's resolution: tracked follow-ups, late results.
    "biopsy-follow-through": {
        "task": "surveillance.tasks.biopsy_follow_through",
        "schedule": env.int("BIOPSY_SWEEP_SECONDS", default=300),
    },
    # Surveillance: transitions, alerts, then one digest per coordinator (issue 5).
    "surveillance-daily": {
        "task": "surveillance.tasks.daily_sweep_and_digest",
        "schedule": crontab(hour=env.int("SURVEILLANCE_SWEEP_HOUR", default=6), minute=0),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated API call then gets 401 with
        # `WWW-Authenticate: Token` rather than a bare 403.
        "api.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.BoundedJSONParser",
                               "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.BoundedCountPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# API tokens (django-rest-knox): only a digest is stored; each expires after
# API_TOKEN_DAYS and can be revoked by its owner (the tokens page, or POST /api/auth/logout/).
KNOX_TOKEN_MODEL = "api.ApiToken"
# knox's own token table is never created: api.ApiToken replaces it (its migrations would
# create a table no model uses, which the test runner's flush cannot empty round).
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DAYS", default=30)),
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Breast Surveillance Tracker API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": "Patients, imaging studies with structured findings, alerts and FHIR R4 "
    "export. Authenticate with `Authorization: Token <token>` (POST /api/auth/token/) or "
    "a logged-in session. See docs/api.md for a walkthrough.",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/",
    # Same choice set under different fields: name them once instead of warning.
    "ENUM_NAME_OVERRIDES": {
        "LateralityEnum": "patients.vocabulary.Laterality",
        "BreastEnum": "patients.vocabulary.Breast",
    },
}

# --- Registry import (CSV upload page) -------------------------------------------------
REGISTRY_MAX_UPLOAD_BYTES = env.int("REGISTRY_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
REGISTRY_UPLOAD_DIR = env.str("REGISTRY_UPLOAD_DIR", default=str(BASE_DIR / "var" / "imports"))

# --- HL7 v2 feed (docs/hl7.md): the MLLP listener of `manage.py hl7_listen` ---------------
HL7_LISTEN_HOST = env.str("HL7_LISTEN_HOST", default="127.0.0.1")
HL7_LISTEN_PORT = env.int("HL7_LISTEN_PORT", default=2575)
HL7_LISTEN_PROCESSES = env.int("HL7_LISTEN_PROCESSES", default=2)
HL7_MAX_MESSAGE_BYTES = env.int("HL7_MAX_MESSAGE_BYTES", default=1024 * 1024)
HL7_IDLE_TIMEOUT_SECONDS = env.int("HL7_IDLE_TIMEOUT_SECONDS", default=600)

# --- Logging: never patient details, only ids ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Calendar tokens out of every line, e.g. Django's "Not Found: <path>" (tracker/redaction.py).
    "filters": {"redact": {"()": "tracker.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                # WeasyPrint reports each rendering step at INFO.
                "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Production hardening (driven by the environment) --------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy: scripts only from this server, never inline. Styles allow
# 'unsafe-inline' because plotly.js inserts its chart style rules at run time
# (plotly.js issue #7543); inline styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
