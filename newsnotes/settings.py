"""NewsNotes settings, driven by the environment (see README: Configuration)."""

import os
from datetime import timedelta
from pathlib import Path

import pgtrigger
from django.utils.csp import CSP

from newsnotes.database import database_config, owner_config, replica_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)

# Unset with DEBUG off, it stays empty: commands that sign nothing (makemigrations, check, collectstatic) run; the web
# entry points refuse to start (newsnotes/startup.py), and Django refuses any signing without it.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

DATA_DIR = Path(os.environ.get("NEWSNOTES_DATA_DIR", BASE_DIR / ".newsnotes")).resolve()

INSTALLED_APPS = [
    # Above django.contrib.admin: its object-tools templates add the "Events" (history) buttons.
    "pghistory.admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "newsnotes",  # before whitenoise: its runserver releases the embedded database on SIGTERM
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "articles",
    "annotations",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: history events record the user and the URL of the request that made them.
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Agreement, exports and search read from DATABASE_REPLICA_URL when set (newsnotes/routers.py).
    "newsnotes.routers.ReplicaReadsMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsnotes.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "newsnotes.wsgi.application"

# Behind PgBouncer in transaction pooling (docs/scaling.md): NEWSNOTES_PGBOUNCER=1, or ?pgbouncer=1 in the URL.
DATABASES = {
    "default": database_config(
        database_url=os.environ.get("DATABASE_URL"), data_dir=DATA_DIR, pgbouncer=env_bool("NEWSNOTES_PGBOUNCER", False)
    )
}
# A read replica for exports, agreement and search (newsnotes/routers.py); unset, every read uses default.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = replica_config(
        replica_url=os.environ["DATABASE_REPLICA_URL"], pgbouncer=env_bool("NEWSNOTES_PGBOUNCER", False)
    )
DATABASE_ROUTERS = ["newsnotes.routers.ReplicaRouter"]
# The role that owns the tables and runs migrations (newsnotes/roles.py): DATABASE_OWNER_URL, or for the
# embedded server its superuser. None: one role does both (the history then holds only against the app's code).
DATABASE_OWNER = owner_config(
    database_url=os.environ.get("DATABASE_URL"), owner_url=os.environ.get("DATABASE_OWNER_URL")
)
# Parallel test runs (several developers, CI) on one server each get their own test database.
if os.environ.get("NEWSNOTES_TEST_DB"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["NEWSNOTES_TEST_DB"]}

# Background jobs (README: Exports): Django's tasks framework, the queue kept in PostgreSQL by django-tasks-db
# and run by `manage.py db_worker` (make run starts one beside runserver; compose runs a `worker` service).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# How long a finished or failed export job (and its file) is kept before the worker deletes it.
NEWSNOTES_EXPORT_RETENTION_HOURS = float(os.environ.get("NEWSNOTES_EXPORT_RETENTION_HOURS", "24"))
# How long an admin import job is kept: an unconfirmed preview (and its stored upload), then the finished record.
NEWSNOTES_IMPORT_RETENTION_HOURS = float(os.environ.get("NEWSNOTES_IMPORT_RETENTION_HOURS", "24"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): the first backend refuses a locked-out account or address before the second
# one hashes a password, so a flood of guesses costs no CPU once the limit is reached.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Before any backend that may be asked has_perm: fills ModelBackend's permission cache in one query for users
    # whose cache is not filled yet (sessions made before UserWithPermissionsBackend, which name ModelBackend).
    "newsnotes.permissions.PermissionsInOneQuery",
    # Logs people in as ModelBackend does; loads the session's user with their permissions in one statement.
    "newsnotes.permissions.UserWithPermissionsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failures are counted per account and, separately, per client address; either reaching the limit locks.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("NEWSNOTES_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("NEWSNOTES_LOGIN_LOCKOUT_MINUTES", 15)))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address: REMOTE_ADDR, unless NEWSNOTES_CLIENT_IP_HEADER names the header a trusted reverse proxy
# sets (never trust a header a client can send straight to the app).
NEWSNOTES_CLIENT_IP_HEADER = os.environ.get("NEWSNOTES_CLIENT_IP_HEADER", "").strip()
AXES_CLIENT_IP_CALLABLE = "newsnotes.client_ip.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "newsnotes.storage.StaticFilesStorage"
        if not DEBUG and not env_bool("NEWSNOTES_PLAIN_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Strict policy: only our own scripts and styles, no inline code, no third-party origins.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read by a statement built once per process, not per request (newsnotes/sessions.py).
SESSION_ENGINE = "newsnotes.sessions"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; kept default for the admin
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Submitting a domain to the browsers' HSTS preload list is hard to undo and applies to every subdomain:
# the operator opts in with SECURE_HSTS_PRELOAD=1, so the check that nags about it is silenced.
SILENCED_SYSTEM_CHECKS = [] if env_bool("SECURE_HSTS_PRELOAD", False) else ["security.W021"]

# Uploads through the admin import page (articles/forms.py) are capped there with a clear message.
NEWSNOTES_MAX_IMPORT_BYTES = int(os.environ.get("NEWSNOTES_MAX_IMPORT_BYTES", 20 * 1024 * 1024))
# A zip is unpacked in memory: these bound what a small upload may expand to (a "zip bomb").
NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES = int(os.environ.get("NEWSNOTES_MAX_IMPORT_UNPACKED_BYTES", 100 * 1024 * 1024))
NEWSNOTES_MAX_IMPORT_FILES = int(os.environ.get("NEWSNOTES_MAX_IMPORT_FILES", 2000))
# The longest article body (characters): every span create answers with text from it, and pages draw it whole.
NEWSNOTES_MAX_ARTICLE_CHARS = int(os.environ.get("NEWSNOTES_MAX_ARTICLE_CHARS", 1_000_000))
# A CSV header wider than this is not an article table; the refusal names only the first few columns.
NEWSNOTES_MAX_CSV_COLUMNS = int(os.environ.get("NEWSNOTES_MAX_CSV_COLUMNS", 64))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Pre-annotation plug-ins (README: Suggestions): dotted paths of callables, text in, (start, end, label name)
# code-point spans out, run over every import's new articles. Comma-separated in the environment, e.g.
# NEWSNOTES_SUGGESTERS=annotations.suggestions.spacy_adapter.suggest (needs the "spacy" extra).
NEWSNOTES_SUGGESTERS = [p.strip() for p in os.environ.get("NEWSNOTES_SUGGESTERS", "").split(",") if p.strip()]
# The spaCy suggester's pipeline: "gazetteer" (a blank pipeline + an EntityRuler from editors' entity spans; no
# download) or an installed pipeline package / path for spacy.load.
NEWSNOTES_SPACY_PIPELINE = os.environ.get("NEWSNOTES_SPACY_PIPELINE", "gazetteer")

# History (django-pghistory): database triggers record every insert, update and delete of spans and articles.
# Reads change nothing, so only writing methods open a context (user, url) for the triggers to attach.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"
PGHISTORY_ADMIN_LIST_DISPLAY = ["pgh_created_at", "pgh_label", "pgh_obj_model", "pgh_obj_id", "user", "pgh_diff"]
# Events are history: nobody edits or deletes them, not even through SQL run by the app.
PGHISTORY_APPEND_ONLY = True
# One trigger call per statement, its events written with INSERT ... SELECT from the statement's transition table.
# Row-level history called _pgh_attach_context() per row, a subtransaction each: an import of 40,000 spans spent
# 19 s of 23 s in it, growing with the square of the rows (PostgreSQL rescans the pending after-trigger events
# at every aborted subtransaction). Same events, same context, same "only when a tracked field changed" rule.
# annotations/history.py: the context is attached only to a statement that records an event, as row-level did.
PGHISTORY_LEVEL = pgtrigger.Statement

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Django's default config gives the "django" logger a console handler of its own and lets it propagate to
    # root as well, so every Django line (the reloader's "Watching for file changes" in `make run`) printed
    # twice. One handler here: Django's INFO lines while developing, warnings and errors always.
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": "INFO" if DEBUG else os.environ.get("LOG_LEVEL", "WARNING"),
            "propagate": False,
        }
    },
}
