"""Settings read from the environment; the defaults suit the project-local services."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
# Where customers and staff reach the site: emails (written by a worker, outside any request) build
# their manage and console links on it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Sites whose pages may call the public booking API from the browser (booking_site/cors.py), exactly as
# the browser sends them in Origin: scheme, host and port, e.g. "https://www.example-clinic.com".
PUBLIC_API_ALLOWED_ORIGINS = [
    o.strip().rstrip("/") for o in os.environ.get("PUBLIC_API_ALLOWED_ORIGINS", "").split(",") if o.strip()
]

PGPORT = os.environ.get("PGPORT", "54320")
REDIS_PORT = os.environ.get("REDIS_PORT", "63790")
DATABASE_URL = os.environ.get("DATABASE_URL") or f"postgres://postgres@127.0.0.1:{PGPORT}/booking"
REDIS_URL = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{REDIS_PORT}/0"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "scheduling",
    "notifications",
    "waitlist",
    "payments",
    "calendars",
]

MIDDLEWARE = [
    # First: whatever answers (the outage 503, a redirect, the view), an allowed origin can read it.
    "booking_site.cors.PublicApiCorsMiddleware",
    "booking_site.outage.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "booking_site.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions (the language may live there), before common (it may redirect with the language).
    # Django's LocaleMiddleware, except that the API always speaks English (booking_site/middleware.py).
    "booking_site.middleware.PagesLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "booking_site.urls"
WSGI_APPLICATION = "booking_site.wsgi.application"

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

# A streaming replica of DATABASE_URL (optional): availability reads go there, everything else to the
# primary (booking_site/db_router.py, docs/decisions/0017-read-replica-and-pooler.md).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
# DATABASE_URL points at a pooler in transaction mode (PgBouncer, docs/decisions/0017-read-replica-and-pooler.md):
# consecutive transactions of one connection may run on different server connections.
DB_TRANSACTION_POOLER = env_bool("DB_TRANSACTION_POOLER", False)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True)
DATABASE_ROUTERS = ["booking_site.db_router.PrimaryReplicaRouter"]
for _database in DATABASES.values():
    # Server-side binding lets psycopg prepare a statement once it has run DB_PREPARE_THRESHOLD times on a
    # connection; PostgreSQL then skips parsing and planning it. On the booking path that is about 40 % of
    # PostgreSQL's CPU per booking (bench/http_throughput.py). A prepared statement lives on one server
    # connection: behind a transaction pooler it needs PgBouncer 1.21 or later with max_prepared_statements
    # set; before that set DB_PREPARE_THRESHOLD=none (binding stays, nothing is prepared by name).
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        _threshold = os.environ.get("DB_PREPARE_THRESHOLD", "2").strip().lower()
        _database.setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=None if _threshold == "none" else int(_threshold)
        )
    # A PostgreSQL that is unreachable rather than refusing (a failover, dropped packets) would otherwise
    # hold each connect for the OS's TCP timeout, past gunicorn's worker timeout: the 503 of
    # booking_site/outage.py needs the connect to fail first. A connect_timeout given in the URL wins.
    _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", int(os.environ.get("DB_CONNECT_TIMEOUT", "3")))
    # Django's .iterator() holds a named cursor across statements, which a transaction pooler may run on
    # another server connection.
    _database["DISABLE_SERVER_SIDE_CURSORS"] = DB_TRANSACTION_POOLER
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out login is refused before any password check
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# The site default (staff messages, visitors whose browser asks for neither language) is English with a
# 24-hour clock. "en-us" is its own entry only for the clock and date order (scheduling/formatting.py):
# it shares the English text, so it needs no catalogue. A visitor's en-GB or en-AU falls back to "en".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("en-us", "English (US)"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".local" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the customer pages' CSS and script

# Shared by every gunicorn worker, so throttles and idempotency windows hold across processes.
CACHES = {
    "default": {
        "BACKEND": "booking_site.cache.RedisCache",
        "LOCATION": os.environ.get("CACHE_URL") or REDIS_URL.rsplit("/", 1)[0] + "/1",
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "booking"),
        "TIMEOUT": 300,
        # A Redis that is down or hung must cost a request milliseconds, not seconds: the throttles
        # that use the cache fail open (scheduling/api/throttling.py, scheduling.views.common.within_rate).
        "OPTIONS": {
            "socket_connect_timeout": float(os.environ.get("CACHE_SOCKET_TIMEOUT", "0.25")),
            "socket_timeout": float(os.environ.get("CACHE_SOCKET_TIMEOUT", "0.25")),
        },
    }
}

# Free slots computed per provider, service and window, kept in the cache above under the provider's
# availability version (scheduling/slot_cache.py). 0 turns it off.
SLOTS_CACHE_SECONDS = int(os.environ.get("SLOTS_CACHE_SECONDS", "120"))

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after each task unless this is
# set: a new PostgreSQL backend (a fork, catalog caches, prepared statements lost) for every drain, which
# cost the machine more CPU than the drain itself (ADR 0007). With it, the fixup closes them only every
# 2 x this many tasks, and booking_site/celery.py gives tasks the request lifecycle instead: a connection
# lives CONN_MAX_AGE and is health-checked (`close_old_connections`).
CELERY_DB_REUSE_MAX = 1000
# A publish (the outbox kick after a booking commits) gives up fast when the broker is down: without
# these, kombu retries the connection for about 6 s inside the customer's request. A lost kick costs
# nothing but delay: the outbox sweep sends the rows. `max_retries` applies to publishing; the
# worker's own reconnect loop follows broker_connection_max_retries.
BROKER_PUBLISH_TIMEOUT = float(os.environ.get("BROKER_PUBLISH_TIMEOUT", "0.5"))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_PUBLISH_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "socket_connect_timeout": BROKER_PUBLISH_TIMEOUT,
    "socket_timeout": BROKER_PUBLISH_TIMEOUT,
}

# How long after the first commit of a burst its outbox drain starts (notifications/wakeup.py): the
# commits of that moment are sent by one drain. 0 drains at once, a task per commit when the worker idles.
OUTBOX_WAKE_DELAY_SECONDS = float(os.environ.get("OUTBOX_WAKE_DELAY_SECONDS", "0.25"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "bookings@localhost")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or str(BASE_DIR / ".local" / "mail")  # filebased backend

# Notifications (notifications/): per-send timeout, claim lease and retries of the dispatchers; the SMS
# and push channels. A channel whose backend is empty is "not configured": nothing is scheduled on it.
NOTIFICATIONS_SEND_TIMEOUT_SECONDS = float(os.environ.get("NOTIFICATIONS_SEND_TIMEOUT_SECONDS", "20"))
NOTIFICATIONS_CLAIM_LEASE_SECONDS = float(os.environ.get("NOTIFICATIONS_CLAIM_LEASE_SECONDS", "300"))
NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "5"))
NOTIFICATIONS_RETRY_BACKOFF_SECONDS = float(os.environ.get("NOTIFICATIONS_RETRY_BACKOFF_SECONDS", "60"))
EMAIL_TIMEOUT = NOTIFICATIONS_SEND_TIMEOUT_SECONDS
# Messages done with (notifications, reminders, waitlist messages, calendar exports, webhook events)
# are deleted this many days after both their last change and their booking's or entry's end
# (notifications.services.messages_purge, daily); 0 keeps them.
MESSAGE_RETENTION_DAYS = int(os.environ.get("MESSAGE_RETENTION_DAYS", "180"))
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")  # only to point the SDK at a mock
SMS_BACKEND = os.environ.get("SMS_BACKEND", "twilio" if TWILIO_ACCOUNT_SID else "")  # twilio, console, file
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH") or str(BASE_DIR / ".local" / "sms")
PUSH_WEBHOOK_URL = os.environ.get("PUSH_WEBHOOK_URL", "")
PUSH_WEBHOOK_TOKEN = os.environ.get("PUSH_WEBHOOK_TOKEN", "")
PUSH_BACKEND = os.environ.get("PUSH_BACKEND", "webhook" if PUSH_WEBHOOK_URL else "")  # webhook, console

# Calendar sync (docs/decisions/0015-calendar-sync.md). Fetching a calendar URL refuses private, loopback
# and link-local addresses unless this is on (`make run` turns it on for the demo).
CALENDAR_ALLOW_PRIVATE_URLS = env_bool("CALENDAR_ALLOW_PRIVATE_URLS", False)
CALENDAR_FETCH_MAX_BYTES = int(os.environ.get("CALENDAR_FETCH_MAX_BYTES", str(10 * 1024 * 1024)))
CALENDAR_FETCH_TIMEOUT_SECONDS = float(os.environ.get("CALENDAR_FETCH_TIMEOUT_SECONDS", "10"))
# Google Calendar and Microsoft 365 (README "Operator configuration: Google and Microsoft calendars"). The
# API and token URLs change only to point the adapters at a local fake in tests.
GOOGLE_OAUTH_CLIENT_ID = os.environ.get("GOOGLE_OAUTH_CLIENT_ID", "")
GOOGLE_OAUTH_CLIENT_SECRET = os.environ.get("GOOGLE_OAUTH_CLIENT_SECRET", "")
GOOGLE_API_BASE = os.environ.get("GOOGLE_API_BASE", "https://www.googleapis.com").rstrip("/")
GOOGLE_OAUTH_TOKEN_URL = os.environ.get("GOOGLE_OAUTH_TOKEN_URL", "https://oauth2.googleapis.com/token")
MICROSOFT_OAUTH_CLIENT_ID = os.environ.get("MICROSOFT_OAUTH_CLIENT_ID", "")
MICROSOFT_OAUTH_CLIENT_SECRET = os.environ.get("MICROSOFT_OAUTH_CLIENT_SECRET", "")
MICROSOFT_OAUTH_TENANT = os.environ.get("MICROSOFT_OAUTH_TENANT", "common")
MICROSOFT_GRAPH_BASE = os.environ.get("MICROSOFT_GRAPH_BASE", "https://graph.microsoft.com/v1.0").rstrip("/")
MICROSOFT_OAUTH_TOKEN_URL = os.environ.get(
    "MICROSOFT_OAUTH_TOKEN_URL", f"https://login.microsoftonline.com/{MICROSOFT_OAUTH_TENANT}/oauth2/v2.0/token"
)
# The public https address Google and Microsoft call with change notifications (push is off unless https).
CALENDAR_PUSH_BASE_URL = os.environ.get("CALENDAR_PUSH_BASE_URL", SITE_URL).rstrip("/")

# Payments (docs/decisions/0013-payments.md). With no STRIPE_SECRET_KEY, `make run` and the tests start
# localstripe (a fake Stripe server) and point these at it; with real keys the same code talks to Stripe.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # blank: Stripe's own; set only for localstripe
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20"))
# Gateway calls owed after a state change (refunds, cancelling a charge) are retried until done.
PAYMENTS_CLAIM_LEASE_SECONDS = float(os.environ.get("PAYMENTS_CLAIM_LEASE_SECONDS", "120"))
PAYMENTS_RETRY_BACKOFF_SECONDS = float(os.environ.get("PAYMENTS_RETRY_BACKOFF_SECONDS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_manage_tokens": {"()": "booking_site.log_redaction.RedactManageTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact_manage_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scheduling.api.authentication.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["scheduling.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "scheduling.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "slots": os.environ.get("SLOTS_THROTTLE_RATE", "300/min"),
        # Slots for an authenticated client (an integrator's token), per user: higher than per visitor.
        "slots_user": os.environ.get("SLOTS_USER_THROTTLE_RATE", "3000/min"),
        # Booking POSTs (create, reschedule) per authenticated user.
        "booking_post": os.environ.get("BOOKING_POST_USER_THROTTLE_RATE", "120/min"),
        # Failed token authentications per client IP; past it every token request from there gets 429.
        "token_failures": os.environ.get("TOKEN_FAILURE_THROTTLE_RATE", "20/min"),
    },
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}

# Production behind a TLS-terminating proxy (README "Production settings"). The defaults suit
# `make run` over plain HTTP; `check --deploy` passes once these are set.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Only behind a proxy that sets (and strips from clients) this header, e.g. "HTTP_X_FORWARDED_PROTO=https".
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = tuple(os.environ["SECURE_PROXY_SSL_HEADER"].split("=", 1))
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)

# Admin login lockout (django-axes): AXES_FAILURE_LIMIT failures for one username from one IP lock
# that pair out for AXES_COOLOFF_HOURS.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes_locked_out.html"
AXES_CLIENT_IP_CALLABLE = "booking_site.login_lockout.axes_client_ip"
# No "AXES: BEGIN" banner on every manage.py command and process start; lockouts are still logged as warnings.
AXES_VERBOSE = env_bool("AXES_VERBOSE", False)

SPECTACULAR_SETTINGS = {
    "TITLE": "Booking platform API",
    "DESCRIPTION": "Providers, availability, slots and bookings. Errors are JSON `{code, detail, fields?}`; "
    "conflicts are 409 `slot_unavailable` with `conflicting_booking_id`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "scheduling.models.BookingStatus",
        "CancelReasonEnum": "scheduling.models.CancelReason",
        "ApiCancelReasonEnum": "scheduling.api.serializers.API_CANCEL_REASON_CHOICES",
        "PaymentModeEnum": "scheduling.models.PaymentMode",
        "BookingPaymentStatusEnum": "payments.selectors.PAYMENT_STATUSES",
        "WaitlistStatusEnum": "waitlist.models.EntryStatus",
    },
}

# Integrator webhooks (docs/decisions/0016-webhooks.md). Endpoint URLs get the calendar fetch's guard:
# private addresses refused unless allowed (by default, as for calendar URLs).
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", CALENDAR_ALLOW_PRIVATE_URLS)
WEBHOOK_DISABLE_AFTER_FAILING_DAYS = 3
# Endpoints one drain sends to at once (threads, each with its own database connection); 1 sends
# everything in the worker's own thread.
WEBHOOK_SEND_CONCURRENCY = int(os.environ.get("WEBHOOK_SEND_CONCURRENCY", "4"))
