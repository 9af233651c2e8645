"""System checks that refuse to run a production site on a developer's settings.

Registered in :class:`timebank.web.apps.WebConfig.ready`. Outside DEBUG each finding is an Error, so
``manage.py check``, every management command, ``runserver`` and gunicorn (``timebank/wsgi.py`` runs the
checks before it serves) stop with the list of what to set. With DEBUG on they say nothing: a developer
machine runs on the built-in keys, over plain HTTP, with tasks run eagerly.

What is refused outside DEBUG (docs/operators.md, "Production environment"):

* ``timebank.E001`` a secret setting (SECRET_KEY, FIELD_SALT_KEY, ID_HASH_KEY, LEDGER_MARK_KEY when the
  ledger defines it, SECRET_KEY_FALLBACKS, and any other ``*_KEY``/``*_SECRET`` setting) that is empty, a
  built-in development default, a placeholder, too short (SECRET_KEY under 50 characters, the others under
  32) or too uniform;
* ``timebank.E002`` two secret settings with the same value (one leak must not open both locks);
* ``timebank.E003`` cookies sent over plain HTTP (SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE);
* ``timebank.E004`` HSTS shorter than a year; ``timebank.E005`` no redirect to HTTPS;
* ``timebank.E006`` a malformed SECURE_PROXY_SSL_HEADER;
* ``timebank.E007`` no real Celery broker (tasks eager, or the in-memory transport);
* ``timebank.E008`` staff two-factor login switched off; ``timebank.E009`` ALLOWED_HOSTS with a wildcard;
* ``timebank.E010`` no Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

#: Settings that hold secrets, by name. Any other setting whose name ends in _KEY or _SECRET is checked too.
SECRET_SETTINGS = ("SECRET_KEY", "SALT_KEY", "ID_HASH_KEY", "LEDGER_MARK_KEY")
#: Environment variable that sets each (for the messages: the operator sets the variable, not the setting).
ENV_NAMES = {"SALT_KEY": "FIELD_SALT_KEY"}
#: Settings ending in _KEY that are not secrets.
NOT_SECRETS = frozenset({"CSRF_HEADER_NAME", "SESSION_CACHE_ALIAS", "CACHE_MIDDLEWARE_KEY_PREFIX"})
MIN_SECRET_LENGTH = 32  # 192+ bits of a random token; SECRET_KEY needs 50, as Django's own check says
MIN_SIGNING_KEY_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 10
MIN_HSTS_SECONDS = 365 * 24 * 3600
#: Words that mark a value as a placeholder, whatever setting holds it.
PLACEHOLDER_WORDS = ("dev-only", "insecure", "change-me", "changeme", "example", "secret-key")


def _development_defaults() -> set[str]:
    """The built-in development values: every ``DEV_*`` string in the settings module."""
    return {str(getattr(settings, name)) for name in dir(settings) if name.startswith("DEV_")}


def _secret_names() -> list[str]:
    names = [name for name in SECRET_SETTINGS if hasattr(settings, name)]
    for name in dir(settings):
        candidate = name.isupper() and name.endswith(("_KEY", "_SECRET")) and not name.startswith("DEV_")
        if candidate and name not in names and name not in NOT_SECRETS and isinstance(getattr(settings, name), str):
            names.append(name)
    return names


def _weakness(value: Any, defaults: set[str], minimum: int = MIN_SECRET_LENGTH) -> str | None:
    """Why a secret value is unfit for production, or None."""
    if not isinstance(value, str) or not value:
        return "it is empty"
    if value in defaults:
        return "it is the built-in development value"
    lowered = value.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or lowered.startswith("django-insecure"):
        return "it looks like a placeholder"
    if len(value) < minimum:
        return f"it is shorter than {minimum} characters"
    if len(set(value)) < MIN_UNIQUE_CHARACTERS:
        return f"it has fewer than {MIN_UNIQUE_CHARACTERS} different characters"
    return None


def _error(msg: str, hint: str, number: int) -> Error:
    return Error(msg, hint=hint, id=f"timebank.E{number:03d}")


def _check_secrets() -> Iterable[CheckMessage]:
    defaults = _development_defaults()
    seen: dict[str, str] = {}
    for name in _secret_names():
        value = getattr(settings, name)
        env_name = ENV_NAMES.get(name, name)
        minimum = MIN_SIGNING_KEY_LENGTH if name == "SECRET_KEY" else MIN_SECRET_LENGTH
        why = _weakness(value, defaults, minimum)
        if why is not None:
            yield _error(
                f"{env_name} is not fit for production: {why}.",
                f"Set {env_name} in the environment to a random value of at least {minimum} characters, "
                'e.g. python -c "import secrets; print(secrets.token_urlsafe(50))". Keep it in the secret store; '
                "never reuse it for another setting.",
                1,
            )
        elif value in seen:
            yield _error(
                f"{env_name} has the same value as {seen[value]}.",
                "Give every key its own random value: one leaked key must not open the other.",
                2,
            )
        else:
            seen[value] = env_name
    for index, old in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []) or []):
        why = _weakness(old, defaults, MIN_SIGNING_KEY_LENGTH)
        if why is not None:
            yield _error(
                f"SECRET_KEY_FALLBACKS[{index}] is not fit for production: {why}.",
                "Remove development keys from SECRET_KEY_FALLBACKS; it only holds old production keys.",
                1,
            )


def _check_transport() -> Iterable[CheckMessage]:
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        if not getattr(settings, name, False):
            yield _error(
                f"{name} is off: the login cookie would be sent over plain HTTP.",
                "Leave SECURE_COOKIES unset (it is on outside DEBUG) and serve the site over HTTPS.",
                3,
            )
    if int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0) < MIN_HSTS_SECONDS:
        yield _error(
            "HSTS is off or shorter than a year (SECURE_HSTS_SECONDS).",
            f"Leave SECURE_HSTS_SECONDS unset (one year outside DEBUG) or set it to at least {MIN_HSTS_SECONDS}.",
            4,
        )
    if not getattr(settings, "SECURE_SSL_REDIRECT", False):
        yield _error(
            "Plain-HTTP requests are not redirected to HTTPS (SECURE_SSL_REDIRECT is off).",
            "Leave SECURE_SSL_REDIRECT unset (on outside DEBUG). Behind a TLS-terminating proxy set "
            "SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https so that proxied HTTPS is recognised.",
            5,
        )
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if header is not None and (
        not isinstance(header, Sequence)
        or len(header) != 2
        or not str(header[0]).startswith("HTTP_")
        or not str(header[1])
    ):
        yield _error(
            f"SECURE_PROXY_SSL_HEADER is malformed: {header!r}.",
            "Use a pair such as ('HTTP_X_FORWARDED_PROTO', 'https'); the proxy must set it and drop the "
            "client's own copy.",
            6,
        )
    hosts = list(getattr(settings, "ALLOWED_HOSTS", []) or [])
    if "*" in hosts:
        yield _error(
            "ALLOWED_HOSTS accepts any host name ('*').",
            "List the site's own host names in ALLOWED_HOSTS.",
            9,
        )


def _check_broker() -> Iterable[CheckMessage]:
    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or not broker or broker.startswith("memory://"):
        yield _error(
            "No real Celery broker: background tasks (ledger seals, verification, webhooks) would run inside "
            "web requests or not at all.",
            "Set CELERY_BROKER_URL to the Redis or RabbitMQ broker (e.g. redis://redis.internal:6379/0) and "
            "run a worker and celery beat.",
            7,
        )


def _check_staff_login() -> Iterable[CheckMessage]:
    if not getattr(settings, "OTP_REQUIRED_FOR_STAFF", False):
        yield _error(
            "Two-factor login for town admins, city supervisors and operators is off (OTP_REQUIRED_FOR_STAFF).",
            "Leave OTP_REQUIRED_FOR_STAFF unset (on); it may be switched off on a developer machine only.",
            8,
        )
    if "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE or not getattr(
        settings, "CONTENT_SECURITY_POLICY", None
    ):
        yield _error(
            "No Content-Security-Policy: csp.middleware.CSPMiddleware or CONTENT_SECURITY_POLICY is missing.",
            "Keep the policy of timebank/settings.py.",
            10,
        )


def production_problems() -> list[CheckMessage]:
    """Every finding, whatever DEBUG says (the tests and ``check`` outside DEBUG use it)."""
    return [*_check_secrets(), *_check_transport(), *_check_broker(), *_check_staff_login()]


@register("security")
def refuse_development_settings_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Outside DEBUG: an Error for every setting a production site must not run with."""
    if settings.DEBUG:
        return []
    return production_problems()
