"""A production-like environment for servers that tests, benchmarks and CI start with DEBUG off.

Production refuses to start on development settings (timebank/web/checks.py). A test or benchmark server
therefore gets what production gets: fresh random keys, secure cookies, HSTS, the HTTPS redirect, a real
Celery broker and two-factor login for staff. Nothing here weakens a check; a server started with this
environment serves HTTPS itself (the browser tests give gunicorn a self-signed certificate) or sits behind
a proxy that says so (``SECURE_PROXY_SSL_HEADER``, as the API benchmark's load generator does).

Use from Python (no Django import, so a benchmark may use it before setting Django up)::

    env = production_env(DATABASE_URL="sqlite:///tmp/x.sqlite3")

or from the shell, to run one command with it (``make lint`` runs ``check --deploy`` this way)::

    python -m timebank.web.production_env manage.py check --deploy --fail-level WARNING
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

#: The keys production must set, each to its own random value.
KEY_VARIABLES = ("SECRET_KEY", "FIELD_SALT_KEY", "ID_HASH_KEY", "LEDGER_MARK_KEY")
DEFAULT_BROKER = "redis://127.0.0.1:6379/15"


def random_keys() -> dict[str, str]:
    return {name: secrets.token_urlsafe(50) for name in KEY_VARIABLES}


def production_env(base: dict[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """``base`` (default: this process's environment) with production settings; ``overrides`` win.

    Keys already present in ``base`` are kept (a server and the scripts that share its database must use the
    same keys, or the encrypted ID numbers cannot be read)."""
    env = dict(os.environ if base is None else base)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for name, value in random_keys().items():
        if not env.get(name) or len(env[name]) < 50:
            env[name] = value
    env.update(
        DEBUG="0",
        ALLOWED_HOSTS=env.get("ALLOWED_HOSTS") or "127.0.0.1,localhost",
        CELERY_BROKER_URL=env.get("CELERY_BROKER_URL") or DEFAULT_BROKER,
    )
    for name in (
        "SECURE_COOKIES",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "OTP_REQUIRED_FOR_STAFF",
        "STAFF_SESSION_IDLE_MINUTES",
    ):
        env.pop(name, None)  # the production defaults
    env.update(overrides)
    return env


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command = [sys.executable, *argv] if argv[0].endswith(".py") else argv
    return subprocess.call(command, env=production_env())  # noqa: S603 - the developer's own command line


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
