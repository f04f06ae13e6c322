"""Launchpad settings: everything comes from the environment through django-environ.

The embedded default (no variables set) is a development setup on SQLite with a
server-less Celery broker. Production (DEBUG off) refuses to start without the
values it cannot guess, and names the missing variable.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _required(name: str, value, why: str):
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off ({why}).")
    return value


def _bool(name: str, default: bool) -> bool:
    # Stricter than env.bool, which reads any unknown word (DEBUG=ture) as False without a word.
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


DEBUG = _bool("DEBUG", default=True)
TESTING = _bool("LAUNCHPAD_TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        _required(
            "SECRET_KEY",
            "",
            "a long random string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`",
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105 - DEBUG only
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only")):
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG:
    _required("ALLOWED_HOSTS", ALLOWED_HOSTS, "the host names the site is served under, comma-separated")

SITE_URL = env.str("SITE_URL", default="http://localhost:8000" if DEBUG else "").rstrip("/")
if not DEBUG:
    _required("SITE_URL", SITE_URL, "the public https address used in emails and QR codes")
    if not SITE_URL.startswith("https://"):
        raise ImproperlyConfigured("SITE_URL must start with https:// when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL] if SITE_URL.startswith("https://") else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "lib",
    "audiences",
    "campaigns",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Turns a login refused for too many failures into the lockout page (lib/login_throttle.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "launchpad.urls"
WSGI_APPLICATION = "launchpad.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'launchpad.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The axes backend only refuses locked-out logins; the local backend checks the password (while
# LOCAL_LOGIN allows it); the OIDC backend answers the provider's callback only (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.LocalBackend",
    "accounts.backends.OIDCBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "campaigns:project_list"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with the organisation's OpenID Connect provider (accounts/): off while OIDC_ISSUER is
# unset. The endpoints come from the issuer's discovery document (or OIDC_DISCOVERY_URL).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_DISCOVERY_URL = env.str("OIDC_DISCOVERY_URL", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGORITHM", default="RS256")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="")
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
# How the client secret reaches the token endpoint: in the form body, or as HTTP Basic authentication.
OIDC_TOKEN_AUTH_METHOD = env.str("OIDC_TOKEN_AUTH_METHOD", default="client_secret_post")
if OIDC_TOKEN_AUTH_METHOD not in ("client_secret_post", "client_secret_basic"):
    raise ImproperlyConfigured("OIDC_TOKEN_AUTH_METHOD must be client_secret_post or client_secret_basic.")
OIDC_TOKEN_USE_BASIC_AUTH = OIDC_TOKEN_AUTH_METHOD == "client_secret_basic"  # noqa: S105 - a method name
# The claim with the user's groups, and the group names (or ids) that give each role; a role with no
# names configured is left to the admin. A group removed at the provider removes the role at the next sign-in.
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_CHANGE_MANAGER_GROUPS = env.list("OIDC_CHANGE_MANAGER_GROUPS", default=[])
OIDC_STAFF_GROUPS = env.list("OIDC_STAFF_GROUPS", default=[])
OIDC_SUPERUSER_GROUPS = env.list("OIDC_SUPERUSER_GROUPS", default=[])
# LOCAL_LOGIN=false: passwords only for the superusers named in BREAK_GLASS_USERS, on the admin's login.
LOCAL_LOGIN = _bool("LOCAL_LOGIN", default=True)
BREAK_GLASS_USERS = env.list("BREAK_GLASS_USERS", default=[])
if OIDC_ISSUER:
    if not OIDC_RP_CLIENT_ID:
        raise ImproperlyConfigured("OIDC_CLIENT_ID must be set when OIDC_ISSUER is.")
    if not DEBUG:
        _required("OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET, "the client secret the provider issued for Launchpad")
        if not (OIDC_DISCOVERY_URL or OIDC_ISSUER).startswith("https://"):
            raise ImproperlyConfigured(
                "OIDC_ISSUER (or OIDC_DISCOVERY_URL) must start with https:// when DEBUG is off."
            )
elif not LOCAL_LOGIN:
    raise ImproperlyConfigured("LOCAL_LOGIN=false needs single sign-on: set OIDC_ISSUER and OIDC_CLIENT_ID.")

# Languages: Swedish and English ship together.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="sv")
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The languages a project's content (story, emails, meetings, print, film captions) may be written in.
# The interface itself speaks LANGUAGES; a content language without an interface catalogue (Finnish,
# say) gets its dates from Django and the words around the body in English.
CONTENT_LANGUAGES = [code.strip().lower() for code in env.list("CONTENT_LANGUAGES", default=["sv", "en"])]
if LANGUAGE_CODE not in CONTENT_LANGUAGES:
    raise ImproperlyConfigured(f"CONTENT_LANGUAGES must include LANGUAGE_CODE ({LANGUAGE_CODE}).")
# Landing pages and emails speak every content language (Django's own catalogue gives dates and
# month names; our words fall back to English until locale/<code>/ has a catalogue).
LANGUAGES += [
    (code, LANG_INFO.get(code, {}).get("name", code)) for code in CONTENT_LANGUAGES if code not in dict(LANGUAGES)
]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Stockholm")
# Lists of people sort in this PostgreSQL (ICU) collation: Swedish puts Å, Ä, Ö after Z (lib/collation.py).
SORT_COLLATION = env.str("SORT_COLLATION", default="sv-SE-x-icu")
# Public holidays (lib/days_off.py): the organisation's country, and sites abroad ("Helsingfors=FI,London=GB").
HOLIDAY_COUNTRY = env.str("HOLIDAY_COUNTRY", default="SE").upper()
SITE_COUNTRIES = {
    site.strip().casefold(): country.strip().upper()
    for site, country in (pair.split("=", 1) for pair in env.list("SITE_COUNTRIES", default=[]) if "=" in pair)
}
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads: a hard ceiling for every uploaded file, and the image pipeline's limits.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Directory imports (HR exports): their own size ceiling, and the row count above which
# an import runs in the Celery worker with a progress bar instead of inline.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
IMPORT_INLINE_MAX_ROWS = env.int("IMPORT_INLINE_MAX_ROWS", default=5000)
# Directory provisioning (SCIM): the largest request body read, and the most users one page returns.
SCIM_MAX_BODY_BYTES = env.int("SCIM_MAX_BODY_BYTES", default=256 * 1024)
SCIM_MAX_RESULTS = env.int("SCIM_MAX_RESULTS", default=200)
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: an SMTP server, or (embedded default) files in a local outbox.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    if not DEBUG and not TESTING:
        _required("EMAIL_HOST", "", "the SMTP relay that sends the campaign's emails")
EMAIL_FILE_PATH = VAR_DIR / "outbox"
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = _bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Launchpad <launchpad@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis in production; a broker on the local filesystem when REDIS_URL is unset.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TIMEZONE = TIME_ZONE
# Queues by urgency, each with workers of its own (Procfile, README "Production deployment"): mail a
# person waits for never queues behind a 100 000-recipient campaign, a print render or a dashboard.
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_ROUTES = {
    "campaigns.tasks.notify": {"queue": "interactive"},  # invitations (with the password link), approvals, answers
    "campaigns.tasks.dispatch_due": {"queue": "interactive"},  # light: starts sends, recovers rows
    "campaigns.tasks.send_batch": {"queue": "bulk"},
    "campaigns.tasks.team_talks_remind": {"queue": "bulk"},  # up to one email per late manager
    "audiences.tasks.run_directory_import": {"queue": "bulk"},
    "campaigns.print_tasks.*": {"queue": "print"},
    "campaigns.tasks.dashboard_refresh": {"queue": "dashboards"},
    "campaigns.tasks.dashboards_refresh_due": {"queue": "dashboards"},
}
# How often the beat starts due emails and recovers a dead worker's rows (campaigns/delivery/services.py).
DELIVERY_DISPATCH_INTERVAL_SECONDS = env.int("DELIVERY_DISPATCH_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE: dict = {
    # The due time of every email lives in the database; this finds what has come due.
    "dispatch-due-emails": {
        "task": "campaigns.tasks.dispatch_due",
        "schedule": float(DELIVERY_DISPATCH_INTERVAL_SECONDS),
    },
    # Dashboard rollups of active projects: figures are at most this old (editors can refresh at once).
    "refresh-dashboards": {"task": "campaigns.tasks.dashboards_refresh_due", "schedule": 60.0},
    # Per-person engagement of projects closed longer than their retention: anonymised, counts kept.
    "anonymise-engagement": {"task": "campaigns.tasks.engagement_anonymise_due", "schedule": 3600.0},
    # Managers whose team talk is past its date get one reminder, then show on the late list.
    "remind-late-team-talks": {"task": "campaigns.tasks.team_talks_remind", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The dashboard (campaigns/analytics.py): how old a project's figures may get before the beat refreshes them.
DASHBOARD_REFRESH_SECONDS = env.int("DASHBOARD_REFRESH_SECONDS", default=300)

# Email delivery (campaigns/delivery.py): recipients per task, and the recovery policy's clocks.
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", default=1000)
# A row claimed longer ago than this belongs to a dead worker: it must be longer than the task's hard
# time limit (a system check stops start-up otherwise); recovery follows within one dispatcher interval.
DELIVERY_STUCK_AFTER_SECONDS = env.int("DELIVERY_STUCK_AFTER_SECONDS", default=CELERY_TASK_TIME_LIMIT + 240)
# A queued row whose batch message was published longer ago than this is published again (lost broker).
DELIVERY_REQUEUE_AFTER_SECONDS = env.int("DELIVERY_REQUEUE_AFTER_SECONDS", default=900)
DELIVERY_RETRY_BASE_SECONDS = env.int("DELIVERY_RETRY_BASE_SECONDS", default=30)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
# The relay's limits, held across every worker on every machine through Redis (lib/pacing.py); unset: no limit.
DELIVERY_MAX_PER_MINUTE = env.int("DELIVERY_MAX_PER_MINUTE", default=None)
DELIVERY_MAX_PER_HOUR = env.int("DELIVERY_MAX_PER_HOUR", default=None)

# Security: strict by default, relaxed only where DEBUG needs plain http.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _bool("BEHIND_TLS_PROXY", default=False) else None
# The header the reverse proxy writes the client's address into (e.g. X-Forwarded-For); unset: REMOTE_ADDR.
# Rate limits of the public landing page key on this address, so set it only behind a proxy that sets it.
_proxy_header = env.str("TRUSTED_PROXY_HEADER", default="").strip()
TRUSTED_PROXY_HEADER = (
    ("" if _proxy_header.upper().startswith("HTTP_") else "HTTP_") + _proxy_header.upper().replace("-", "_")
    if _proxy_header
    else ""
)
# How many proxies append to that header: the client is this many entries from its right.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
if TRUSTED_PROXY_COUNT < 1:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 1 or more.")

# Failed logins (django-axes), on the app's and the admin's login alike: after LOGIN_FAILURE_LIMIT
# failures an account is locked whatever the address, and an address whatever the account, until
# LOGIN_LOCKOUT_MINUTES have passed without a new attempt; a correct password is refused meanwhile.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be 1 or more.")
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The address the landing page's rate limits use too: the trusted proxy's header only when configured.
AXES_CLIENT_IP_CALLABLE = "lib.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "lib.login_throttle.lockout_response"
# Every failure is kept for the audit (Axes' pages in the admin), not only the running count.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Left off on purpose: a success would clear the address's count, so anyone with one working
# account could keep guessing other accounts' passwords from the same address.
AXES_RESET_ON_SUCCESS = False
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=False)
    # check --deploy wants preload on; sites opt in deliberately, so W021 is silenced only when they have not.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
if OIDC_ISSUER:
    # Logging out posts a form that is redirected on to the provider's end_session_endpoint.
    _provider = urlsplit(OIDC_DISCOVERY_URL or OIDC_ISSUER)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_provider.scheme}://{_provider.netloc}")

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint narrates every step at INFO; its warnings (refused fetches, bad CSS) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
