"""The API rate limits hold across worker processes: gunicorn with 3 workers, real HTTP, both stores.

A fresh SQLite database in a temporary folder (migrated, three accounts with tokens and one signed-in
session made by a small script), served by gunicorn with 3 sync workers, first counting in the database
(the default), then in Redis (``THROTTLE_REDIS_URL``; skipped when no Redis answers at 127.0.0.1:6379).
Requests go from 6 threads at once, so every worker serves some. Before the fix the counts were kept in
each process's memory and the first 429 came after about three times the limit.

The server trusts one proxy (``TRUSTED_PROXY_COUNT=1``) so each test can speak from its own address
(``X-Forwarded-For`` with documentation addresses, RFC 5737) and the per-address limit of one test does not
spill into the next. The window is an hour; a run that would straddle the hour waits for it to turn.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from timebank.web.production_env import production_env

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT_LIMIT = 60
ADDRESS_LIMIT = 150
WINDOW = 3600
WORKERS = 3

SETUP = """
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from timebank.api.services import token_create
from timebank.people.models import User
import json
out = {"tokens": []}
for i in range(5):
    user = User.objects.create_user(username=f"1370000000{i}", password="not-used-here-2026")
    out["tokens"].append(token_create(user=user, name="load", scopes=["read"]).secret)
user = User.objects.create_user(username="13700000009", password="not-used-here-2026")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
out["session"] = session.session_key
print("SETUP" + json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], dict[str, object]]]:
    folder = tmp_path_factory.mktemp("throttle")
    # production settings (random keys, HTTPS behind a proxy that says so: PROXY_HEADERS on every request)
    env = production_env(
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    env |= {
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(folder / "static"),
        "API_RATE_LIMIT": str(ACCOUNT_LIMIT),
        "API_RATE_LIMIT_PER_ADDRESS": str(ADDRESS_LIMIT),
        "API_RATE_WINDOW_SECONDS": str(WINDOW),
        "TRUSTED_PROXY_COUNT": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("THROTTLE_REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)
    done = subprocess.run([*manage, "shell", "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True)
    line = next(x for x in done.stdout.decode().splitlines() if x.startswith("SETUP"))
    yield env, json.loads(line[len("SETUP") :])


@pytest.fixture(scope="module", params=["database", "redis"])
def server(request: pytest.FixtureRequest, prepared: tuple[dict[str, str], dict[str, object]]) -> Iterator[dict]:
    env, made = prepared
    env = dict(env)
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("no Redis at 127.0.0.1:6379")
        env["THROTTLE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["THROTTLE_KEY_PREFIX"] = f"throttle-test-{uuid.uuid4().hex}"  # a run of its own
    port = _free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log_path = Path(env["STATIC_ROOT"]).parent / f"server-{request.param}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [gunicorn, "timebank.wsgi", "-b", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--timeout", "60"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    urllib.request.urlopen(
                        urllib.request.Request(f"{base}/api/v1/health", headers=PROXY_HEADERS), timeout=2
                    )
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"the test server did not start; see {log_path}")
            yield {"base": base, "store": request.param, **made}
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _wait_for_a_whole_window() -> None:
    """Counts are per fixed window: do not start a burst in the last minute of one."""
    left = WINDOW - time.time() % WINDOW
    if left < 60:
        time.sleep(left + 1)


def _burst(base: str, n: int, headers_for: list[dict[str, str]]) -> list[tuple[int, dict[str, str], bytes]]:
    """``n`` GETs of /api/v1/me from 6 threads, request i with ``headers_for[i % len(headers_for)]``."""

    def one(i: int) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(f"{base}/api/v1/me", headers=headers_for[i % len(headers_for)] | PROXY_HEADERS)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    _wait_for_a_whole_window()
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(one, range(n)))


def _statuses(results: list[tuple[int, dict[str, str], bytes]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for status, _h, _b in results:
        out[status] = out.get(status, 0) + 1
    return out


def test_a_tokens_account_gets_the_stated_limit_across_workers(server: dict) -> None:
    token = server["tokens"][0]
    headers = [{"Authorization": f"Bearer {token}", "X-Forwarded-For": "192.0.2.1", "Accept-Language": "en"}]
    results = _burst(server["base"], 2 * ACCOUNT_LIMIT, headers)
    seen = _statuses(results)
    print(f"[{server['store']}] one token, {2 * ACCOUNT_LIMIT} requests, limit {ACCOUNT_LIMIT}: {seen}")
    assert seen == {200: ACCOUNT_LIMIT, 429: ACCOUNT_LIMIT}, seen
    _status, hdrs, body = next(r for r in results if r[0] == 429)
    assert 1 <= int(hdrs["Retry-After"]) <= WINDOW
    refused = json.loads(body)
    assert refused["code"] == "api.rate_limited" and "Try again in" in refused["message"]


def test_a_session_is_limited_like_a_token(server: dict) -> None:
    headers = [
        {"Cookie": f"sessionid={server['session']}", "X-Forwarded-For": "192.0.2.2", "Accept-Language": "zh-Hans"}
    ]
    results = _burst(server["base"], 2 * ACCOUNT_LIMIT, headers)
    seen = _statuses(results)
    print(f"[{server['store']}] one session, {2 * ACCOUNT_LIMIT} requests, limit {ACCOUNT_LIMIT}: {seen}")
    assert seen == {200: ACCOUNT_LIMIT, 429: ACCOUNT_LIMIT}, seen
    ok = json.loads(next(r for r in results if r[0] == 200)[2])
    assert ok["via"] == "session"
    refused = json.loads(next(r for r in results if r[0] == 429)[2])
    assert "请求过于频繁" in refused["message"]


def test_many_accounts_from_one_address_get_the_address_limit(server: dict) -> None:
    tokens = server["tokens"][1:5]  # 4 accounts × 60 = 240 allowed by account, 150 by address
    headers = [{"Authorization": f"Bearer {t}", "X-Forwarded-For": "192.0.2.3"} for t in tokens]
    results = _burst(server["base"], 240, headers)
    seen = _statuses(results)
    print(f"[{server['store']}] 4 accounts, one address, 240 requests, address limit {ADDRESS_LIMIT}: {seen}")
    assert seen == {200: ADDRESS_LIMIT, 429: 240 - ADDRESS_LIMIT}, seen
