"""Settings for the Time Bank. Everything that differs between machines comes from the environment.

Environment variables (all optional on a developer machine):
  DATABASE_URL      default sqlite:///var/db.sqlite3 (the embedded default); production uses PostgreSQL,
                    e.g. postgres://timebank@db.internal:5432/timebank
  SECRET_KEY        Django's signing key; also one half of the key that encrypts ID numbers
  FIELD_SALT_KEY    the other half of the encryption key for ID numbers (django-fernet-encrypted-fields)
  ID_HASH_KEY       HMAC key for the searchable hash of ID numbers
  DEBUG             1 on a developer machine only
  ALLOWED_HOSTS     comma-separated host names
  CELERY_BROKER_URL redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//; unset = tasks run eagerly
"""

from pathlib import Path
from typing import Any

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - refused outside DEBUG by a system check
DEV_SALT_KEY = "dev-only-salt"
DEV_ID_HASH_KEY = "dev-only-id-hash-key"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
SALT_KEY = env.str("FIELD_SALT_KEY", default=DEV_SALT_KEY)  # read by encrypted_fields
ID_HASH_KEY = env.str("ID_HASH_KEY", default=DEV_ID_HASH_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "timebank.common",
    "timebank.places",
    "timebank.people",
    "timebank.ledger",
    "timebank.notify",
    "timebank.training",
    "timebank.care",
    "timebank.teams",
    "timebank.exchange",
    "ninja",  # django-ninja: its templates and static files serve /api/v1/docs without a CDN
    "timebank.api",
    "timebank.matching",
    "timebank.certificates",
    "timebank.rewards",
    "timebank.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "timebank.common.memo.RequestMemoMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)

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
