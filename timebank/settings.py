"""Settings for the Time Bank. Everything that differs between machines comes from the environment.

Environment variables (all optional on a developer machine):
  DATABASE_URL      default sqlite:///var/db.sqlite3 (the embedded default); production uses PostgreSQL,
                    e.g. postgres://timebank@db.internal:5432/timebank
  SECRET_KEY        Django's signing key; also one half of the key that encrypts ID numbers
  FIELD_SALT_KEY    the other half of the encryption key for ID numbers (django-fernet-encrypted-fields)
  ID_HASH_KEY       HMAC key for the searchable hash of ID numbers
  LEDGER_MARK_KEY   HMAC key that marks every ledger transfer (docs/ledger.md "Tamper evidence"); keep it
                    out of the database and its backups, and never change it (docs/operators.md)
  SECRET_KEY_FALLBACKS  comma-separated old signing keys while rotating SECRET_KEY (sessions stay valid)
  DEBUG             1 on a developer machine only
  ALLOWED_HOSTS     comma-separated host names
  CELERY_BROKER_URL redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//; unset = tasks run eagerly
                    (DEBUG only: production refuses to start without a real broker)
  SECURE_PROXY_SSL_HEADER  behind a TLS-terminating proxy: HTTP_X_FORWARDED_PROTO,https (the proxy must set
                    the header and strip it from what clients send)
  SECURE_SSL_REDIRECT, SECURE_COOKIES, SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD
                    on (one year of HSTS) outside DEBUG; off only on a developer machine
  OTP_REQUIRED_FOR_STAFF   1 (default): town admins, city supervisors and operators log in with a TOTP code
  STAFF_SESSION_IDLE_MINUTES  30 (default): a staff session ends after this long without a request

Outside DEBUG the system checks in timebank/web/checks.py refuse to start (manage.py, runserver, gunicorn)
without real keys, secure cookies, HSTS, the HTTPS redirect, a real Celery broker and staff two-factor login.
docs/operators.md lists the production environment.
"""

from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - refused outside DEBUG by a system check
DEV_SALT_KEY = "dev-only-salt"
DEV_ID_HASH_KEY = "dev-only-id-hash-key"
DEV_LEDGER_MARK_KEY = "dev-only-ledger-mark-key"  # the default of LEDGER_MARK_KEY, for development only

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
SALT_KEY = env.str("FIELD_SALT_KEY", default=DEV_SALT_KEY)  # read by encrypted_fields
ID_HASH_KEY = env.str("ID_HASH_KEY", default=DEV_ID_HASH_KEY)
LEDGER_MARK_KEY = env.str("LEDGER_MARK_KEY", default=DEV_LEDGER_MARK_KEY)
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "timebank.people.admin_config.AdminConfig",  # django.contrib.admin with the site of people.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "timebank.common",
    "timebank.places",
    "timebank.people",
    "timebank.ledger",
    "timebank.notify",
    "timebank.training",
    "timebank.care",
    "timebank.teams",
    "timebank.exchange",
    "timebank.privacy",
    "ninja",  # django-ninja: its templates and static files serve /api/v1/docs without a CDN
    "timebank.api",
    "timebank.matching",
    "timebank.certificates",
    "timebank.rewards",
    "timebank.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "timebank.common.unavailable.DatabaseUnavailableMiddleware",  # a lost DB connection: 503 + Retry-After
    "timebank.common.memo.RequestMemoMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "timebank.web.account.middleware.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "timebank.api.middleware.ApiGuardMiddleware",  # API: rate limit per address, JSON bodies only (415, 413)
]

ROOT_URLCONF = "timebank.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "timebank.web.context_processors.elder_mode",
                "csp.context_processors.nonce",
            ],
        },
    },
]

WSGI_APPLICATION = "timebank.wsgi.application"

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections open between requests (a new PostgreSQL connection costs more than most requests).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# No health check per request: with it Django sends a "SELECT 1" round trip before the first query of every
# request that reuses a connection, only to spare the one request that would meet a connection the server
# closed meanwhile (a restart, an idle timeout in a proxy). Without it that request fails with a lost
# connection (answered 503 with Retry-After, so the client retries), Django drops the broken connection at
# the end of the request, and the next request opens a fresh one. Set CONN_HEALTH_CHECKS=true where
# connections are often cut while idle (e.g. behind a pooler with a short idle timeout).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while one writer writes; the timeout makes writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
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
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Lock-out after repeated failed logins (django-axes, failures kept in the database so every worker sees
# them): 5 failures for one phone number lock that number for 30 minutes, and 30 failures from one address
# (whatever the numbers: one password tried against many phones) lock that address. The address limit is
# higher because a community station puts many people behind one address. See timebank/common/lockout.py.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own (either locks), not the pair
AXES_HANDLER = "timebank.common.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "timebank.common.lockout.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
# Reverse proxies in front of the app whose X-Forwarded-For is trusted for the client's address (0: none).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "timebank" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Sessions: residents stay logged in for 14 days on their own phone; staff sessions end after
# STAFF_SESSION_IDLE_MINUTES without a request (timebank.web.account.middleware), and town admins, city
# supervisors and operators confirm each login with a TOTP code (django-otp) when OTP_REQUIRED_FOR_STAFF is on.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
OTP_REQUIRED_FOR_STAFF = env.bool("OTP_REQUIRED_FOR_STAFF", default=True)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="中山时间银行")
OTP_TOTP_THROTTLE_FACTOR = 1  # after a wrong code, wait 1, 2, 4 … seconds before the next try

# Transport security. On by default outside DEBUG; the system checks refuse to start if one is switched off.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_proxy_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_header and (len(_proxy_header) != 2 or not _proxy_header[0].startswith("HTTP_")):
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = (_proxy_header[0], _proxy_header[1]) if _proxy_header else None
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Content-Security-Policy (django-csp 4): only this site's own files; an inline <script> or <style> needs
# the request's nonce (<script nonce="{{ request.csp_nonce }}">); no style="" attributes, no inline handlers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE = {
    "seal-the-ledger": {"task": "ledger.seal", "schedule": 300.0},
    "verify-the-ledger": {"task": "ledger.verify", "schedule": 24 * 3600.0},
    "expire-hours": {"task": "ledger.expire", "schedule": 24 * 3600.0},
    "expire-needs": {"task": "care.expire_needs", "schedule": 900.0},
    "webhooks-due": {"task": "webhooks.deliver_due", "schedule": 60.0},
    "record-star-levels": {"task": "rewards.record_star_levels", "schedule": 24 * 3600.0},
    "privacy-retention": {"task": "privacy.retention", "schedule": 24 * 3600.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# The city this deployment serves (its root region code in the region tree).
CITY_NAME = _("Zhongshan")
CITY_REGION_CODE = "442000"

# The public API (timebank.api, docs/api.md): request limits and rate limits.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)  # larger JSON bodies: 413
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=600)  # requests per account (tokens + session) per window
API_RATE_LIMIT_PER_ADDRESS = env.int("API_RATE_LIMIT_PER_ADDRESS", default=1200)  # per client address
API_RATE_WINDOW_SECONDS = env.int("API_RATE_WINDOW_SECONDS", default=60)
# POST /api/v1/bench/write, the API benchmark's baseline write (bench/api_bench.py sets it): off elsewhere.
API_BENCH_ENDPOINTS = env.bool("API_BENCH_ENDPOINTS", default=False)
# Rate limits count in a store all workers share (timebank/api/throttle.py): Redis when THROTTLE_REDIS_URL
# is set (production: redis://127.0.0.1:6379/1), else a counter table in the database. Never per process.
THROTTLE_REDIS_URL = env.str("THROTTLE_REDIS_URL", default="")
CACHES: dict[str, dict[str, Any]] = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if THROTTLE_REDIS_URL:
    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": THROTTLE_REDIS_URL,
        "KEY_PREFIX": env.str("THROTTLE_KEY_PREFIX", default="timebank"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
NINJA_PAGINATION_MAX_LIMIT = 100

# The public address printed on certificates (their QR codes point to <PUBLIC_BASE_URL>/verify/<code>).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
# This deployment's code in volunteer numbers exchanged with other systems (docs/exchange.md).
EXCHANGE_DEPLOYMENT_CODE = env.str("EXCHANGE_DEPLOYMENT_CODE", default="ZSTB")
EXCHANGE_MAX_FILE_BYTES = env.int("EXCHANGE_MAX_FILE_BYTES", default=10 * 1024 * 1024)
