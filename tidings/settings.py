"""Django settings for Tidings. Every value an operator sets comes from tidings.conf (the environment)."""

import json
import os
from pathlib import Path

from tidings import conf

BASE_DIR = Path(__file__).resolve().parent
# Importing settings only locates the var folder and reads the keys that exist: `tidings init` or
# `tidings migrate` creates them, and a process that needs a missing one is told to run `tidings init`.
VAR_DIR = conf.var_dir()

SECRET_KEY = conf.secret_key()
# None until created; read it through tidings.conf.use_master_key(), which names the fix when it is missing.
TIDINGS_MASTER_KEY = conf.master_key()
DEBUG = conf.env_bool("DEBUG")
ALLOWED_HOSTS = (conf.env("ALLOWED_HOSTS") or "127.0.0.1,localhost,testserver").split(",")
TIDINGS_BIND = conf.env("BIND") or "127.0.0.1:8000"
# Links in emails and printed URLs; behind a proxy or on a real host, set TIDINGS_BASE_URL.
TIDINGS_BASE_URL = (conf.env("BASE_URL") or f"http://{TIDINGS_BIND}").rstrip("/")
TIDINGS_REGIONS = conf.REGIONS
HTTPS = conf.env_bool("HTTPS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "oauth2_provider",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    # Tidings, one app per domain
    "tidings.tenancy",
    "tidings.accounts",
    "tidings.audit",
    "tidings.events",
    "tidings.consent",
    "tidings.contacts",
    "tidings.segments",
    "tidings.tracking",
    "tidings.forms",
    "tidings.assets",
    "tidings.emails",
    "tidings.campaigns",
    "tidings.subject_requests",
    "tidings.pages",
    "tidings.privacy_centre",
    "tidings.policies",
    "tidings.privacy",
    "tidings.jobs",
    "tidings.api",
    "tidings.mautic_compat",
    "tidings.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tidings.web.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tidings.web.middleware.WorkspaceMiddleware",
    # Axes last, as its documentation asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tidings.urls"
WSGI_APPLICATION = "tidings.wsgi.application"
ASGI_APPLICATION = "tidings.asgi.application"

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
                "csp.context_processors.nonce",
                "tidings.web.context_processors.shell",
            ],
        },
    },
]

DATABASES = conf.databases()
DATABASE_ROUTERS = ["tidings.tenancy.router.RegionRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tidings.accounts.backends.EmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Lockout (tidings.accounts.lockout): failures count per (username, client address). From the fifth
# on, each failure pauses that pair's sign-ins for a delay that doubles per failure, from
# TIDINGS_LOCKOUT_FIRST_DELAY up to TIDINGS_LOCKOUT_MAX_DELAY seconds. A success, an admin's unlock,
# or TIDINGS_LOCKOUT_MEMORY seconds without a failure forget the count. Attempts refused during a
# pause do not count, so a stale integration retrying in a loop does not keep the pause at its cap.
AXES_FAILURE_LIMIT = 5
AXES_HANDLER = "tidings.accounts.lockout.GrowingDelayHandler"
AXES_COOLOFF_TIME = "tidings.accounts.lockout.cool_off"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tidings.accounts.views.lockout_response"
AXES_USERNAME_CALLABLE = "tidings.accounts.backends.axes_username"
AXES_CLIENT_IP_CALLABLE = "tidings.tenancy.network.client_ip_or_none"
AXES_VERBOSE = False
# No log of successful sign-ins: axes would keep every email, address and browser in clear indefinitely.
AXES_DISABLE_ACCESS_LOG = True
TIDINGS_LOCKOUT_FIRST_DELAY = 15
TIDINGS_LOCKOUT_MAX_DELAY = 15 * 60
TIDINGS_LOCKOUT_MEMORY = 24 * 60 * 60

# Sessions and CSRF: HttpOnly, SameSite=Lax, Secure whenever Tidings is served over HTTPS.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page, never from the cookie
SECURE_SSL_REDIRECT = HTTPS and conf.env_bool("SSL_REDIRECT", True)
# How many reverse proxies to trust for X-Forwarded-For and X-Forwarded-Proto (0: none).
TIDINGS_BEHIND_PROXY = conf.proxy_hops()
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TIDINGS_BEHIND_PROXY else None
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [TIDINGS_BASE_URL] if TIDINGS_BASE_URL.startswith("http") else []

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"  # created by `tidings init` / `tidings migrate`
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = conf.env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    TASKS = {
        "default": {
            "BACKEND": "django_tasks_rq.RQBackend",
            "QUEUES": ["default"],
        }
    }
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    # Only with Redis: django_rq's checks and commands (rqworker) need a reachable server.
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
else:
    # The database cache is shared by every server and worker process, unlike the local-memory one.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tidings_cache"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

_email = conf.email_settings()
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
globals().update(_email)
DEFAULT_FROM_EMAIL = conf.env("EMAIL_FROM") or "Tidings <no-reply@tidings.example>"
# Credentials of the ESPs workspaces may send through (django-anymail's ANYMAIL setting, as JSON; decision 0023).
ANYMAIL = json.loads(conf.env("ANYMAIL") or "{}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 60 * 60 * 24 * 14,
    "ROTATE_REFRESH_TOKEN": True,
    "PKCE_REQUIRED": False,  # Mautic's clients predate PKCE; public clients are refused in api.oauth
    "SCOPES": {"api": "Use the API of the application's workspace"},
    "DEFAULT_SCOPES": ["api"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    # Store only a checksum of access and refresh tokens, never the usable value (RFC 9700).
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
# Named explicitly so migrations of models pointing at DOT's application can be generated.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

# Sending processes that work on one broadcast at once, each on its own slice of the recipients (decision 0036).
TIDINGS_EMAIL_SEND_LANES = min(conf.env_int("EMAIL_SEND_LANES", os.cpu_count() or 1), 16)
# Task worker processes `tidings serve` starts: one per lane, so a send's lanes run at once.
TIDINGS_TASK_WORKERS = conf.env_int("TASK_WORKERS", TIDINGS_EMAIL_SEND_LANES)
# Native and Mautic-compatible API: requests per token per window.
TIDINGS_API_RATE_LIMIT = int(conf.env("API_RATE_LIMIT", "600") or 600)
TIDINGS_API_RATE_WINDOW = int(conf.env("API_RATE_WINDOW", "60") or 60)
TIDINGS_SUPPORT_GRANT_MAX_HOURS = 72
# CSV imports: file size, columns, preview rows (documented in conf.import_limits and docs/configuration.md).
globals().update(conf.import_limits())
# Segments: seconds between incremental refreshes and between full rebuilds (docs/configuration.md).
TIDINGS_SEGMENT_REFRESH_SECONDS = conf.env_int("SEGMENT_REFRESH_SECONDS", 5)
TIDINGS_SEGMENT_REBUILD_SECONDS = conf.env_int("SEGMENT_REBUILD_SECONDS", 3600, minimum=60)
# How often the worker runs every workspace's published campaigns (delays coming due); events wake them sooner.
TIDINGS_CAMPAIGN_SWEEP_SECONDS = conf.env_int("CAMPAIGN_SWEEP_SECONDS", 5)
# The tracker's bot filter counts HeadlessChrome as a bot; the end-to-end browser tests let theirs through.
TIDINGS_TRACKING_ALLOW_HEADLESS = False
# A workspace's turn: run_campaigns does at most this many steps, then queues its next turn behind the other
# workspaces' (so one workspace's backlog cannot hold the workers while another's steps come due).
TIDINGS_CAMPAIGN_STEPS_PER_TURN = conf.env_int("CAMPAIGN_STEPS_PER_TURN", 10_000)
# Assets: the ceiling of every workspace's upload limit, and where files go: local (default) or a JSON
# {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {...}, "REGIONS": {...}} (decision 0022).
TIDINGS_ASSET_MAX_BYTES = conf.env_int("ASSET_MAX_BYTES", 100 * 1024 * 1024)
TIDINGS_ASSET_STORAGE = json.loads(conf.env("ASSET_STORAGE") or "null")
# Distinct tag names one write may give or take from one contact (API, UI and Mautic alike).
# Forms (decision 0020): the double opt-in mail's sender, how long its link works, the least time a person
# takes to fill a form (faster posts are treated as spam), and submissions per window per network and per form.
TIDINGS_FORMS_FROM_EMAIL = conf.env("FORMS_FROM_EMAIL") or DEFAULT_FROM_EMAIL
TIDINGS_FORMS_CONFIRM_MAX_AGE = conf.env_int("FORMS_CONFIRM_MAX_AGE", 7 * 24 * 3600, minimum=600)
TIDINGS_FORMS_MIN_FILL_SECONDS = conf.env_int("FORMS_MIN_FILL_SECONDS", 3, minimum=0)
TIDINGS_FORMS_RATE_WINDOW = 60
TIDINGS_FORMS_RATE_PER_NETWORK = conf.env_int("FORMS_RATE_PER_NETWORK", 20)
TIDINGS_FORMS_RATE_PER_FORM = conf.env_int("FORMS_RATE_PER_FORM", 600)
TIDINGS_MAX_TAGS_PER_REQUEST = int(conf.env("MAX_TAGS_PER_REQUEST", "100") or 100)
# Request bodies beyond this are refused with 413 (Django's default, 2.5 MB; file uploads are not counted).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(conf.env("MAX_BODY_BYTES", str(2_621_440)) or 2_621_440)
OTP_TOTP_ISSUER = "Tidings"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": conf.env("LOG_LEVEL", "WARNING")},
}
