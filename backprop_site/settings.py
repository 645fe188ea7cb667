"""Settings for the backprop grading site, read from the environment.

DJANGO_DEBUG     "1"/"true" turns debug on (off unless set; `make run` sets it for the demo)
DJANGO_SECRET_KEY required when debug is off
DATABASE_URL     default: SQLite file db.sqlite3 in the project folder
DJANGO_ALLOWED_HOSTS comma-separated (default: localhost names when debugging)
The README's Configuration table lists the rest.
"""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
import os

import dj_database_url
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-local-development-key-only-used-when-DJANGO_DEBUG-is-on"
# With debug off and no key, SECRET_KEY stays empty: the JSON-only commands (answerkey, grade)
# still run, while anything that signs (sessions, CSRF) fails with Django's "must not be empty",
# and the WSGI/ASGI entry points refuse to start at all.

ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h]
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

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
    "bootstrap",  # django-bootstrap-static: Bootstrap's CSS/JS served locally, no CDN
    "django_tasks",
    "django_tasks_db",
    "axes",
    "lti_tool",  # django-lti: LTI 1.3 registrations, deployments, keys (pylti1p3 underneath)
    "grading",
]

MIDDLEWARE = [
    "grading.middleware.ArrivalTimeMiddleware",  # first: the arrival time, before anything waits
    "django.middleware.security.SecurityMiddleware",
    "backprop_site.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "grading.lti.middleware.LmsFrameMiddleware",  # after sessions: an LTI session may be framed by its LMS
    "django.middleware.locale.LocaleMiddleware",  # the language: the header's switch, else the browser's
    "django.middleware.common.CommonMiddleware",
    "backprop_site.middleware.BodyLimitMiddleware",  # before CSRF, which reads the body first
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it turns a lockout into its page
]

ROOT_URLCONF = "backprop_site.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "backprop_site.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Many students submit at once near a deadline: WAL lets readers go on while one writes,
    # IMMEDIATE takes the write lock at BEGIN (no upgrade deadlocks), and writers wait
    # instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The course is taught in Thai and English: the browser's Accept-Language picks one, the header's
# switch overrides it (a cookie). Numbers and names in formulas stay as typed in both.
LANGUAGES = [("en", "English"), ("th", "ไทย")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Asia/Bangkok")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "backprop_site.staticfinders.AppDirectoriesFinder",  # leaves out Bootstrap builds never loaded
]
# Source maps are fetched only by developer tools: not worth compressing at every collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "grading:home"
LOGOUT_REDIRECT_URL = "login"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"


# Security: production defaults, relaxed only for local debugging.
# Database sessions read with one plain statement (backprop_site/sessions.py): the same table and rows.
SESSION_ENGINE = "backprop_site.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the autosave script reads the token from the form, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's probe over plain HTTP gets its answer
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# LTI 1.3: the platform POSTs the launch from its own origin (a cross-site POST: the login and
# launch views are csrf_exempt, their id_token is signed by the platform) and shows us in an
# iframe. A framed page only gets its cookies with SameSite=None; Secure. That is off unless
# DJANGO_LTI_IN_FRAME is set (HTTPS only): without it cookies stay Lax, a launch in an iframe
# shows "open in a new window", and a launch in a new window works as any visit does.
LTI_IN_FRAME = env_bool("DJANGO_LTI_IN_FRAME") and not DEBUG
if LTI_IN_FRAME:
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"
# pylti1p3 keeps each sign-in's nonce and each launch in Django's cache: with several app
# servers the cache must be shared (a login started on one server may launch on another).
# DJANGO_CACHE_TABLE names a database cache table (`manage.py createcachetable` makes it).
if os.environ.get("DJANGO_CACHE_TABLE"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": os.environ["DJANGO_CACHE_TABLE"]}}
# Our tool's name and title as the LMS shows them (deep linking, dynamic registration).
LTI_TOOL_TITLE = os.environ.get("DJANGO_LTI_TOOL_TITLE", "Backprop by hand")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Our own page in the site's layout that says what happened and that typed answers are kept.
CSRF_FAILURE_VIEW = "grading.views.session.csrf_failure"

# Request bodies. The biggest form the engine allows (a 9x9 network over 50 samples) has about
# 16,300 fields and, with numbers as typed, under 1 MB; anything far beyond is refused with a
# message (BodyLimitMiddleware) before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

# Content-Security-Policy (django-csp): nothing inline, nothing from another origin. The admin
# alone gets inline styles (Django's change list writes one <style>); scripts stay 'self' there too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
CSP_ADMIN_PREFIX = "/admin/"

# Login throttling (django-axes): failures are counted per username AND address together, so
# one student's typos never lock out a class behind one NAT address, and a guesser gets
# AXES_FAILURE_LIMIT tries per account per address, then waits the cool-off.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "8"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True  # typos spread over a term never add up to a lockout
# The cool-off runs from the lockout: trying again while locked out does not restart it, so
# "wait 15 minutes" on the page is true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "grading.views.session.locked_out"
AXES_CLIENT_IP_CALLABLE = "backprop_site.proxy.client_ip"
# Behind a reverse proxy: how many proxies append to X-Forwarded-For (0: use the connection's
# address; the header is then ignored, since anyone can send it).
PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "0"))

# Background work (regrades; grading of submissions): Django's Tasks framework, stored in the
# database; workers run `manage.py grading_worker`. DJANGO_TASKS_IMMEDIATE=1 runs tasks in the
# request instead (the tests do; so can a one-process demo).
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if env_bool("DJANGO_TASKS_IMMEDIATE") else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Workers that recover by themselves (`manage.py grading_worker`, grading/services/health.py):
# each worker renews a heartbeat every GRADING_HEARTBEAT_SECONDS and is gone after three missed
# beats; a task RUNNING longer than GRADING_LEASE_SECONDS whose worker is gone (or no longer
# running it) is queued again. Attempts waiting longer than GRADING_STALLED_SECONDS with no
# live worker put a banner on staff pages and make /healthz answer 503.
GRADING_HEARTBEAT_SECONDS = float(os.environ.get("GRADING_HEARTBEAT_SECONDS", "5"))
GRADING_LEASE_SECONDS = float(os.environ.get("GRADING_LEASE_SECONDS", "20"))
GRADING_STALLED_SECONDS = float(os.environ.get("GRADING_STALLED_SECONDS", "120"))

# The proxy's X-Request-Start header is the arrival time of a request (see grading/middleware.py),
# read only on connections from TRUSTED_PROXIES (addresses or networks, comma-separated).
TRUST_X_REQUEST_START = env_bool("DJANGO_TRUST_X_REQUEST_START")
# A wrong address stops the server at start, not every request.
TRUSTED_PROXIES = [str(ip_network(p.strip(), strict=False))
                   for p in os.environ.get("DJANGO_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if p.strip()]

# A request of the proxy's background lane (autosave, grading status) that waited in the queue
# longer than LANE_BACKGROUND_MAX_WAIT seconds is answered 503 + Retry-After at once, and
# after LANE_DEFER_AFTER seconds on a server serving both lanes (the other one down), so
# submits never queue behind a class's autosaves (grading/middleware.py).
LANE_BACKGROUND_MAX_WAIT = float(os.environ.get("DJANGO_LANE_BACKGROUND_MAX_WAIT", "1.0"))
LANE_DEFER_AFTER = float(os.environ.get("DJANGO_LANE_DEFER_AFTER", "0.25"))

# A gradebook export of a class of more students than this is built by a task worker (a staff job
# with progress and a result page) instead of in the request; smaller classes download at once.
GRADING_EXPORT_INLINE_MAX = int(os.environ.get("GRADING_EXPORT_INLINE_MAX", "500"))

# Grading: the hard time limit of the formula check of one submission (seconds).
GRADING_FORMULA_TIME_LIMIT = float(os.environ.get("GRADING_FORMULA_TIME_LIMIT", "2.0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# E-mail: a student is told when a regrade (or a withdrawn override) changes their grade, where
# the site sends mail. DJANGO_EMAIL_BACKEND (e.g. django.core.mail.backends.smtp.EmailBackend,
# with EMAIL_HOST and friends in the environment) turns it on; without it nothing is sent and the
# students' pages still show the notice.
if os.environ.get("DJANGO_EMAIL_BACKEND"):
    EMAIL_BACKEND = os.environ["DJANGO_EMAIL_BACKEND"]
    EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
    EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
    EMAIL_TIMEOUT = 10
elif DEBUG:  # development: a receipt or a grade-change mail is printed on the server's console
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "webmaster@localhost")
GRADE_CHANGE_EMAILS = env_bool("GRADE_CHANGE_EMAILS", bool(os.environ.get("DJANGO_EMAIL_BACKEND")))
