"""Production refuses development settings (issue 13, defect 2): system checks, manage.py and gunicorn.

The unit tests run the registered checks with settings changed one at a time; the process tests start
``manage.py check`` and gunicorn in a fresh environment, as an operator would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks

from timebank.web.checks import MIN_HSTS_SECONDS
from timebank.web.production_env import production_env, random_keys

ROOT = Path(__file__).resolve().parents[3]


def _ours() -> list[Any]:
    return [m for m in run_checks(include_deployment_checks=True) if str(m.id).startswith("timebank.")]


@pytest.fixture
def production(settings: Any) -> Any:
    """Settings as production has them: DEBUG off, random keys, HTTPS, a broker, two-factor login."""
    keys = random_keys()
    settings.DEBUG = False
    settings.SECRET_KEY = keys["SECRET_KEY"]
    settings.SALT_KEY = keys["FIELD_SALT_KEY"]
    settings.ID_HASH_KEY = keys["ID_HASH_KEY"]
    settings.LEDGER_MARK_KEY = keys["LEDGER_MARK_KEY"]
    settings.SECRET_KEY_FALLBACKS = []
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = MIN_HSTS_SECONDS
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OTP_REQUIRED_FOR_STAFF = True
    settings.ALLOWED_HOSTS = ["timebank.example.cn"]
    return settings


def test_production_settings_pass(production: Any) -> None:
    assert _ours() == []


def test_outside_debug_the_builtin_keys_are_refused(production: Any) -> None:
    production.SECRET_KEY = production.DEV_SECRET_KEY
    production.SALT_KEY = production.DEV_SALT_KEY
    production.ID_HASH_KEY = production.DEV_ID_HASH_KEY
    found = _ours()
    assert {m.id for m in found} == {"timebank.E001"}
    text = " ".join(m.msg for m in found)
    for name in ("SECRET_KEY", "FIELD_SALT_KEY", "ID_HASH_KEY"):
        assert f"{name} is not fit for production: it is the built-in development value" in text
    assert all(m.is_serious() for m in found)  # Error level: manage.py and gunicorn stop


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty"),
        ("s3cr3t-but-short", "shorter than 32"),
        ("ab" * 40, "fewer than 10 different"),
        ("django-insecure-" + "x1y2z3w4v5u6t7s8r9q0" * 3, "placeholder"),
    ],
)
def test_weak_keys_are_refused(production: Any, value: str, why: str) -> None:
    production.ID_HASH_KEY = value
    [found] = _ours()
    assert found.id == "timebank.E001" and "ID_HASH_KEY" in found.msg and why in found.msg


def test_the_signing_key_needs_50_characters(production: Any) -> None:
    production.SECRET_KEY = "k7Qw9zXp2Lm4Nv8Rt6Yb3Hc5Jd1Fg0SaEuIoPl"  # 38 random characters: enough for the others
    [found] = _ours()
    assert "SECRET_KEY" in found.msg and "shorter than 50" in found.msg
    production.SECRET_KEY = random_keys()["SECRET_KEY"]
    production.ID_HASH_KEY = "k7Qw9zXp2Lm4Nv8Rt6Yb3Hc5Jd1Fg0SaEuIoPl"
    assert _ours() == []


def test_the_ledger_mark_key_is_checked_when_the_ledger_has_one(production: Any) -> None:
    production.LEDGER_MARK_KEY = "dev-only-ledger-mark-key"
    [found] = _ours()
    assert "LEDGER_MARK_KEY" in found.msg
    production.LEDGER_MARK_KEY = random_keys()["LEDGER_MARK_KEY"]
    assert _ours() == []


def test_one_value_for_two_keys_is_refused(production: Any) -> None:
    production.ID_HASH_KEY = production.SECRET_KEY
    [found] = _ours()
    assert found.id == "timebank.E002"


def test_an_old_development_key_among_the_fallbacks_is_refused(production: Any) -> None:
    production.SECRET_KEY_FALLBACKS = [production.DEV_SECRET_KEY]
    [found] = _ours()
    assert found.id == "timebank.E001" and "SECRET_KEY_FALLBACKS[0]" in found.msg


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("SESSION_COOKIE_SECURE", False, "timebank.E003"),
        ("CSRF_COOKIE_SECURE", False, "timebank.E003"),
        ("SECURE_HSTS_SECONDS", 0, "timebank.E004"),
        ("SECURE_HSTS_SECONDS", 3600, "timebank.E004"),
        ("SECURE_SSL_REDIRECT", False, "timebank.E005"),
        ("SECURE_PROXY_SSL_HEADER", ("X-Forwarded-Proto", "https"), "timebank.E006"),
        ("OTP_REQUIRED_FOR_STAFF", False, "timebank.E008"),
        ("ALLOWED_HOSTS", ["*"], "timebank.E009"),
    ],
)
def test_transport_and_login_settings_are_refused(production: Any, setting: str, value: Any, code: str) -> None:
    setattr(production, setting, value)
    assert [m.id for m in _ours()] == [code]


def test_a_proxy_header_is_accepted(production: Any) -> None:
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert _ours() == []


@pytest.mark.parametrize(
    ("broker", "eager"), [("memory://", True), ("memory://", False), ("", False), ("redis://r:6379/0", True)]
)
def test_no_real_broker_is_refused(production: Any, broker: str, eager: bool) -> None:
    production.CELERY_BROKER_URL = broker
    production.CELERY_TASK_ALWAYS_EAGER = eager
    assert [m.id for m in _ours()] == ["timebank.E007"]


def test_no_content_security_policy_is_refused(production: Any) -> None:
    production.MIDDLEWARE = [m for m in production.MIDDLEWARE if m != "csp.middleware.CSPMiddleware"]
    assert [m.id for m in _ours()] == ["timebank.E010"]


def test_a_developer_machine_is_not_bothered(production: Any) -> None:
    production.DEBUG = True
    production.SECRET_KEY = production.DEV_SECRET_KEY
    production.SECURE_SSL_REDIRECT = False
    production.CELERY_BROKER_URL = "memory://"
    assert _ours() == []


# --- the processes an operator starts ----------------------------------------------------------------------


def _bare_env(tmp_path: Path) -> dict[str, str]:
    """This machine's environment without any of the settings production sets, DEBUG off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET", "FIELD_", "ID_HASH", "LEDGER_M"))}
    for name in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"):
        env.pop(name, None)
    env.update(DEBUG="0", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", PYTHONWARNINGS="ignore")
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_manage_py_refuses_to_run_on_the_builtin_keys(tmp_path: Path) -> None:
    done = _manage(_bare_env(tmp_path), "check")
    assert done.returncode != 0
    for text in ("timebank.E001", "SECRET_KEY", "FIELD_SALT_KEY", "ID_HASH_KEY", "timebank.E007"):
        assert text in done.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = production_env(_bare_env(tmp_path))
    done = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_gunicorn_does_not_start_on_the_builtin_keys(tmp_path: Path) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "timebank.wsgi", "-b", "127.0.0.1:0", "--workers", "1", "--timeout", "60"],
        cwd=ROOT,
        env=_bare_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = server.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
        pytest.fail("gunicorn kept running on the built-in keys:\n" + output)
    assert server.returncode != 0
    assert "timebank.E001" in output and "SECRET_KEY" in output


def test_the_wsgi_application_loads_with_production_settings(tmp_path: Path) -> None:
    env = production_env(_bare_env(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", "import timebank.wsgi; print('loaded')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout


def test_a_celery_worker_does_not_start_on_the_builtin_keys(tmp_path: Path) -> None:
    celery = Path(sys.executable).parent / "celery"
    done = subprocess.run(
        [str(celery), "-A", "timebank", "worker", "--pool", "solo", "-l", "warning"],
        cwd=ROOT,
        env=_bare_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "timebank.E001" in done.stderr and "SECRET_KEY" in done.stderr


@pytest.mark.django_db
def test_behind_a_proxy_https_is_recognised_and_plain_http_redirected(settings: Any) -> None:
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = MIN_HSTS_SECONDS
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = Client().get("/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"
    proxied = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith(f"max-age={MIN_HSTS_SECONDS}")
    assert "Content-Security-Policy" in proxied
